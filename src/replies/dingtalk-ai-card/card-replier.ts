import { randomUUID } from 'node:crypto';
import type { AnswerDraft, ChatMessage, ChatReplier } from '../../chat/chat-message.js';
import { CHAT_TEXTS } from '../../chat/chat-texts.js';
import type { ReplyConfig } from '../../config/config.js';
import type { DingTalkApi } from '../../dingtalk/dingtalk-api.js';
import type { Logger } from '../../logger.js';
import type { OpenCard, OpenCardStore } from '../../storage/open-card-store.js';
import { CallTally } from '../dingtalk-markdown/call-tally.js';
import type { RobotReplier } from '../dingtalk-markdown/robot-replier.js';
import { CardApi, cardTargetOf, toCardApiError } from './card-api.js';
import { CardAvailability } from './card-availability.js';
import { CardDraft, type CardDeps } from './card-draft.js';
import { UpdateLimiter } from './update-limiter.js';

export interface CardReplierOptions {
  readonly api: DingTalkApi;
  /** Everything that is not a streamed answer, and the fallback. */
  readonly markdown: RobotReplier;
  readonly store: OpenCardStore;
  /** The robot's code (the app key). */
  readonly robotCode: string;
  readonly replies: ReplyConfig;
  /** DINGTALK_TIMEOUT_SECONDS in ms; card calls use at most 5 s of it. */
  readonly callTimeoutMs: number;
  /** ANSWER_TIMEOUT_SECONDS in ms: a card closes at the latest this long (+ `graceMs`) after it opened. */
  readonly answerTimeoutMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly limiter?: UpdateLimiter;
  readonly graceMs?: number;
  readonly cooldownMs?: number;
  /** How often cards left open (a final that could not be sent) are retried. */
  readonly sweepEveryMs?: number;
}

const GRACE_MS = 5_000;
const SWEEP_EVERY_MS = 60_000;
const STOP_BUDGET_MS = 2_500;

/**
 * Replies with AI cards (DINGTALK_REPLY_MODE=card): a question's answer streams into a card
 * created as the question goes to the model; everything else (commands, refusals, notices) is
 * markdown. Every card is recorded before it is created and closed whatever happens: by its
 * answer, its watchdog, shutdown, or, after a crash, at the next start.
 */
export class CardReplier implements ChatReplier {
  private readonly deps: CardDeps;
  private readonly availability: CardAvailability;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly graceMs: number;
  private readonly live = new Map<string, CardDraft>();
  /** Cards a crash left open for messages recovery will answer (by message id). */
  private readonly orphans = new Map<string, { card: OpenCard; timer: NodeJS.Timeout }>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CardReplierOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.logger.child({ replies: 'dingtalk-ai-card' });
    this.graceMs = options.graceMs ?? GRACE_MS;
    const { replies } = options;
    const cards = new CardApi({
      api: options.api,
      robotCode: options.robotCode,
      templateId: replies.cardTemplateId,
      contentKey: replies.cardContentKey,
      timeoutMs: Math.min(options.callTimeoutMs, 5_000),
    });
    const limiter = options.limiter ?? new UpdateLimiter({ now: this.now });
    this.deps = { cards, limiter, store: options.store, markdown: options.markdown, intervalMs: replies.cardUpdateIntervalMs, logger: this.log, now: this.now };
    this.availability = new CardAvailability(this.log, this.now, options.cooldownMs);
  }

  /** Plain messages go as markdown, except the answer to a message whose card a crash left open. */
  async reply(message: ChatMessage, text: string): Promise<void> {
    const orphan = this.takeOrphan(message.id);
    if (orphan) return this.adopt(orphan, message).finish(text);
    await this.options.markdown.reply(message, text);
  }

  async startAnswer(message: ChatMessage): Promise<AnswerDraft | undefined> {
    const orphan = this.takeOrphan(message.id);
    if (orphan) return this.adopt(orphan, message);
    const target = cardTargetOf(message);
    if (!target || !this.availability.usable()) return undefined;
    if (this.availability.needsCheck()) await this.checkPermission();
    if (!this.availability.usable()) return undefined;
    const card: OpenCard = { id: `card_${randomUUID()}`, messageId: message.id, target, lastText: '', openedAt: this.now() };
    try {
      await this.options.store.put(card); // before the card exists, so no crash can leave it unknown
    } catch (err) {
      this.log.warn('cannot record a card; answering in markdown', { msgId: message.id, err: String(err) });
      return undefined;
    }
    const tally = new CallTally();
    tally.add('card_create');
    try {
      await this.deps.cards.create(card.id, target, CHAT_TEXTS.thinking);
    } catch (err) {
      await this.createFailed(card, toCardApiError(err));
      return undefined;
    }
    return this.track(new CardDraft(this.deps, { card, message, tally, closeBy: this.now() + this.options.answerTimeoutMs + this.graceMs }));
  }

  /**
   * At start-up, before messages arrive: closes every card a previous process left open, except
   * those of messages still pending (recovery finishes them through `reply` or `startAnswer`).
   */
  async start(pendingMessageIds: ReadonlySet<string>): Promise<void> {
    if (this.availability.needsCheck()) await this.checkPermission();
    let open: OpenCard[] = [];
    try {
      open = await this.options.store.list();
    } catch (err) {
      this.log.error('cannot read the open cards', { err: String(err) });
    }
    const closing: Array<Promise<void>> = [];
    for (const card of open) {
      if (!pendingMessageIds.has(card.messageId)) closing.push(this.closeLeftover(card));
      else this.keepForRecovery(card);
    }
    await Promise.all(closing);
    if (open.length > 0) this.log.info('cards left open by the previous process', { closed: closing.length, keptForRecovery: open.length - closing.length });
    this.sweepTimer = setInterval(() => void this.sweep(), this.options.sweepEveryMs ?? SWEEP_EVERY_MS);
    this.sweepTimer.unref();
  }

  /**
   * Before recovery answers messages another process left (a restart, or this instance taking
   * over the Stream): cards that process left open for them are kept, so each is finished in
   * place instead of being closed by the sweep while a second card answers the same message.
   */
  async adoptOpenAnswers(messageIds: ReadonlySet<string>): Promise<void> {
    if (messageIds.size === 0) return;
    let open: OpenCard[];
    try {
      open = await this.options.store.list();
    } catch (err) {
      this.log.warn('cannot read the open cards before recovery', { err: String(err) });
      return;
    }
    for (const card of open) {
      if (messageIds.has(card.messageId) && !this.live.has(card.id) && !this.orphans.has(card.messageId)) this.keepForRecovery(card);
    }
  }

  /** Closes every card being written now (bounded); cards kept for recovery stay for the next start. */
  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    for (const { timer } of this.orphans.values()) clearTimeout(timer);
    this.orphans.clear();
    const drafts = [...this.live.values()];
    for (const d of drafts) {
      d.hurry();
      void d.finish(CHAT_TEXTS.failed, { failed: true }).catch(() => undefined);
    }
    this.deps.limiter.releaseAll();
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise((r) => (timer = setTimeout(r, STOP_BUDGET_MS)));
    await Promise.race([Promise.allSettled(drafts.map((d) => d.settled())), budget]);
    clearTimeout(timer);
  }

  private track(draft: CardDraft): CardDraft {
    this.live.set(draft.id, draft);
    void draft.settled().then(() => this.live.delete(draft.id));
    return draft;
  }

  private adopt(card: OpenCard, message: ChatMessage): CardDraft {
    this.log.info('continuing a card the previous process left open', { msgId: message.id, outTrackId: card.id });
    const closeBy = this.now() + this.options.answerTimeoutMs + this.graceMs;
    return this.track(new CardDraft(this.deps, { card, message, tally: new CallTally(), closeBy }));
  }

  private takeOrphan(messageId: string): OpenCard | undefined {
    const orphan = this.orphans.get(messageId);
    if (!orphan) return undefined;
    clearTimeout(orphan.timer);
    this.orphans.delete(messageId);
    return orphan.card;
  }

  private keepForRecovery(card: OpenCard): void {
    // Recovery may drop the message (too old) instead of answering it: close the card anyway.
    const timer = setTimeout(() => {
      if (this.takeOrphan(card.messageId)) void this.closeLeftover(card);
    }, this.options.answerTimeoutMs + this.graceMs);
    timer.unref();
    this.orphans.set(card.messageId, { card, timer });
  }

  private async createFailed(card: OpenCard, e: ReturnType<typeof toCardApiError>): Promise<void> {
    if (e.kind === 'permission' || e.kind === 'template' || e.kind === 'delivery' || e.kind === 'quota') {
      this.availability.turnOff(`the card could not be created (${e.kind})`, e);
    } else {
      this.log.warn('card not created; answering this question in markdown', { msgId: card.messageId, kind: e.kind, code: e.detail.code });
    }
    if (e.kind !== 'unavailable') return void (await this.options.store.remove(card.id).catch(() => undefined));
    // No answer or a timeout: the card may exist after all. Point it at the markdown answer now,
    // and keep that in the record so a later sweep does the same if DingTalk is still down.
    const pointer: OpenCard = { ...card, lastText: CHAT_TEXTS.cardAnsweredBelow, target: { ...card.target, final: true } };
    await this.options.store.put(pointer).catch(() => undefined);
    // Not at once: a create DingTalk is still working on would land after our close.
    setTimeout(() => void this.closeLeftover(pointer), this.graceMs).unref();
  }

  /** Permission probe: a streaming update of a card that does not exist says 403 or "not exist". */
  private async checkPermission(): Promise<void> {
    try {
      await this.deps.cards.stream(`card_probe_${randomUUID()}`, ' ', { guid: randomUUID() });
    } catch (err) {
      const e = toCardApiError(err);
      if (e.kind === 'permission' || e.kind === 'quota') this.availability.turnOff('the app cannot stream AI cards', e);
    }
  }

  /**
   * Closes a card nobody is writing: with its recorded final text when it has one, else with the
   * failure sentence. A card that does not exist (never created) is just forgotten.
   */
  private async closeLeftover(card: OpenCard): Promise<void> {
    const final = card.target.final === true && card.lastText.trim() !== '';
    let failed = final ? card.target.failed === true : true;
    const text = final ? card.lastText : CHAT_TEXTS.failed;
    for (let attempt = 1; attempt <= 2; attempt++) {
      await this.deps.limiter.take('final');
      try {
        await this.deps.cards.stream(card.id, text, { final: true, failed, guid: randomUUID() });
        break;
      } catch (err) {
        const e = toCardApiError(err);
        if (e.kind === 'missing') break;
        if (e.kind === 'rejected' && failed) {
          failed = false; // a template without a failure state
          continue;
        }
        if (e.kind === 'permission') {
          await this.deps.cards.closeByInstance(card.id, text, failed).catch(() => undefined);
          break;
        }
        this.log.warn('could not close a card left open; will try again', { outTrackId: card.id, kind: e.kind });
        return;
      }
    }
    await this.options.store.remove(card.id).catch(() => undefined);
    this.log.info('closed a card left open', { outTrackId: card.id, msgId: card.messageId, final });
  }

  private async sweep(): Promise<void> {
    const cutoff = this.now() - this.options.answerTimeoutMs - this.graceMs * 2;
    const waiting = new Set([...this.orphans.values()].map((o) => o.card.id));
    try {
      for (const card of await this.options.store.list()) {
        if (card.openedAt < cutoff && !this.live.has(card.id) && !waiting.has(card.id)) await this.closeLeftover(card);
      }
    } catch (err) {
      this.log.warn('open-card sweep failed', { err: String(err) });
    }
  }
}
