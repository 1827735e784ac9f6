/** Conversations with a reply waiting at most (memory bound). */
const MAX_CONVERSATIONS = 200;
/** Replies waiting per conversation at most; older ones give way. */
const MAX_PER_CONVERSATION = 3;
/** A reply nobody came back for within a day is dropped. */
const HOLD_MS = 24 * 60 * 60_000;

/**
 * Replies to a direct chat that could not be delivered: its sessionWebhook expired (or is not
 * allowed) and the robot OpenAPI needs the sender's staff id, which DingTalk does not send for
 * some users. No documented call reaches a direct chat by conversation id alone, so the reply
 * waits here and goes out, first, with the reply to the user's next message (which brings a
 * fresh webhook). Kept in memory (bounded); a restart loses what is waiting.
 */
export class HeldReplies {
  private readonly held = new Map<string, Array<{ text: string; until: number }>>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.held.size;
  }

  hold(conversationId: string, text: string): void {
    const list = (this.held.get(conversationId) ?? []).filter((r) => r.until > this.now());
    list.push({ text, until: this.now() + HOLD_MS });
    this.held.delete(conversationId); // re-inserted last: the map's order is the age order
    this.held.set(conversationId, list.slice(-MAX_PER_CONVERSATION));
    if (this.held.size > MAX_CONVERSATIONS) this.held.delete(this.held.keys().next().value!);
  }

  /** The replies waiting for this conversation (oldest first), no longer held. */
  take(conversationId: string): string[] {
    const list = this.held.get(conversationId);
    if (!list) return [];
    this.held.delete(conversationId);
    return list.filter((r) => r.until > this.now()).map((r) => r.text);
  }
}
