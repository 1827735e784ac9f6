import { randomUUID } from 'node:crypto';
import { type Cast, type Conversation, directConversation, type Person } from './demo-cast.js';

/** How the bot's message reached the chat: the DingTalk API that carried it. */
export type BotDelivery = 'webhook' | 'group-send' | 'oto-send' | 'card';

/** An AI card's state, as DingTalk shows it. */
export type CardStatus = 'processing' | 'inputing' | 'finished' | 'failed' | 'executing';

/** One message as the chat page shows it. */
export interface RoomMessage {
  readonly id: string;
  /** Version at which the message last changed (the page asks for changes since a version). */
  rev: number;
  readonly conversationId: string;
  /** A person's staff id, or `bot`. */
  readonly from: string;
  text: string;
  readonly createdAt: number;
  readonly kind: 'text' | 'markdown' | 'card';
  /** A person's message: whether DingTalk hands it to the bot (DMs, group messages that @ it). */
  readonly toBot?: boolean;
  /** A message to the bot: its Stream frame is waiting for a socket, sent, or acked by the bot. */
  delivery?: 'waiting' | 'sent' | 'acked';
  readonly via?: BotDelivery;
  readonly title?: string;
  readonly atUserIds?: readonly string[];
  card?: { status: CardStatus; updates: number };
}

/** Something that happened on the wire, for the page's "behind the scenes" panel. */
export interface WireEvent {
  readonly rev: number;
  readonly at: number;
  readonly kind: string;
  readonly detail: string;
}

export interface RoomChanges {
  readonly rev: number;
  /** True while the bot holds a Stream connection. */
  readonly online: boolean;
  readonly messages: readonly RoomMessage[];
  readonly wire: readonly WireEvent[];
}

const MAX_MESSAGES = 600;
const MAX_WIRE_EVENTS = 200;

/**
 * Everything the simulated DingTalk shows: the conversations, their messages and the wire log,
 * each change numbered so the page can ask for what changed since it last looked (long poll).
 * Bounded, so a demo left running for days does not grow.
 */
export class ChatRoom {
  readonly conversations: readonly Conversation[];
  private readonly messages = new Map<string, RoomMessage>();
  private readonly wireEvents: WireEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private rev = 0;
  private online = false;
  private closed = false;

  constructor(readonly cast: Cast) {
    this.conversations = [cast.group, ...cast.people.map(directConversation)];
  }

  person(id: string): Person | undefined {
    return this.cast.people.find((p) => p.id === id);
  }

  conversation(id: string): Conversation | undefined {
    return this.conversations.find((c) => c.id === id);
  }

  /** The direct chat of a person with the bot. */
  directOf(personId: string): Conversation | undefined {
    return this.conversations.find((c) => c.kind === 'direct' && c.memberIds[0] === personId);
  }

  message(id: string): RoomMessage | undefined {
    return this.messages.get(id);
  }

  addPersonMessage(conversationId: string, from: string, text: string, toBot: boolean): RoomMessage {
    return this.add({ id: `m-${randomUUID()}`, conversationId, from, text, kind: 'text', toBot, delivery: toBot ? 'waiting' : undefined });
  }

  addBotMessage(input: { conversationId: string; text: string; via: BotDelivery; title?: string; atUserIds?: readonly string[] }): RoomMessage {
    return this.add({ id: `b-${randomUUID()}`, from: 'bot', kind: 'markdown', ...input });
  }

  /** Creates the card message the first time, then changes it in place. */
  showCard(cardId: string, conversationId: string, change: { text?: string; status?: CardStatus; update?: boolean }): RoomMessage {
    const id = `card-${cardId}`;
    const existing = this.messages.get(id);
    const card = existing ?? this.add({ id, conversationId, from: 'bot', text: '', kind: 'card', via: 'card', card: { status: 'processing', updates: 0 } });
    if (change.text !== undefined) card.text = change.text;
    if (change.status) card.card!.status = change.status;
    if (change.update) card.card!.updates++;
    this.touch(card);
    return card;
  }

  setDelivery(messageId: string, delivery: 'sent' | 'acked'): void {
    const m = this.messages.get(messageId);
    // An ack after a redelivery must not turn back into "sent".
    if (!m || m.delivery === 'acked') return;
    m.delivery = delivery;
    this.touch(m);
  }

  setOnline(online: boolean): void {
    if (this.online === online) return;
    this.online = online;
    this.bump();
  }

  wire(kind: string, detail: string): void {
    this.wireEvents.push({ rev: this.bump(), at: Date.now(), kind, detail });
    if (this.wireEvents.length > MAX_WIRE_EVENTS) this.wireEvents.splice(0, this.wireEvents.length - MAX_WIRE_EVENTS);
  }

  changesSince(since: number): RoomChanges {
    const messages = [...this.messages.values()].filter((m) => m.rev > since).sort((a, b) => a.createdAt - b.createdAt);
    const wire = this.wireEvents.filter((e) => e.rev > since);
    return { rev: this.rev, online: this.online, messages, wire };
  }

  /** Resolves once something changed after `since`, or after `timeoutMs`, or at close. */
  waitForChange(since: number, timeoutMs: number): Promise<void> {
    if (this.rev > since || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  close(): void {
    this.closed = true;
    for (const wake of [...this.waiters]) wake();
  }

  private add(fields: Omit<RoomMessage, 'rev' | 'createdAt'>): RoomMessage {
    const message: RoomMessage = { ...fields, rev: 0, createdAt: Date.now() };
    this.messages.set(message.id, message);
    if (this.messages.size > MAX_MESSAGES) {
      const oldest = this.messages.keys().next().value;
      if (oldest !== undefined) this.messages.delete(oldest);
    }
    this.touch(message);
    return message;
  }

  private touch(message: RoomMessage): void {
    message.rev = this.bump();
  }

  private bump(): number {
    this.rev++;
    for (const wake of [...this.waiters]) wake();
    return this.rev;
  }
}
