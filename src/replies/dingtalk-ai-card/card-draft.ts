import { randomUUID } from 'node:crypto';
import type { AnswerDraft, ChatMessage } from '../../chat/chat-message.js';
import { CHAT_TEXTS } from '../../chat/chat-texts.js';
import type { Logger } from '../../logger.js';
import type { OpenCard, OpenCardStore } from '../../storage/open-card-store.js';
import type { CallTally } from '../dingtalk-markdown/call-tally.js';
import type { RobotReplier } from '../dingtalk-markdown/robot-replier.js';
import { type CardApi, type CardApiError, toCardApiError } from './card-api.js';
import { cardContentOf } from './card-content.js';
import type { UpdateLimiter } from './update-limiter.js';

/** What every card of the process shares. */
export interface CardDeps {
  readonly cards: CardApi;
  readonly limiter: UpdateLimiter;
  readonly store: OpenCardStore;
  /** Sends what does not fit in a card, or the whole answer when the card cannot show it. */
  readonly markdown: RobotReplier;
  /** CARD_UPDATE_INTERVAL_MS: least time between two updates of one card. */
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly now: () => number;
}

export interface DraftInit {
  /** The card's durable record (already stored). */
  readonly card: OpenCard;
  readonly message: ChatMessage;
  readonly tally: CallTally;
  /** When the watchdog closes the card if the answer has not (answer deadline + a few seconds). */
  readonly closeBy: number;
}

/** Tries of the final update before closing another way. */
const FINAL_ATTEMPTS = 3;
/** Pause after DingTalk said "too many calls" (it names no wait). */
const THROTTLE_BACKOFF_MS = 2_000;

/**
 * One answer streaming into one AI card. A single loop per card sends the latest text at most
 * once per interval and takes a slot of the process-wide limiter for each update; texts that
 * arrive meanwhile replace each other. `finish` sends the whole answer with `isFinalize`
 * (retried, then closed by an instance update, then as markdown), removes the durable record,
 * and sends what does not fit in the card as markdown. Closing never depends on anyone else:
 * a watchdog closes the card at `closeBy`.
 */
export class CardDraft implements AnswerDraft {
  private latest: string | undefined;
  private lastShown: string;
  private lastAttemptAt = 0;
  private backoffUntil = 0;
  private urgent = false;
  private broken: CardApiError | undefined;
  private closed = false;
  private updates = 0;
  private final: { text: string; failed: boolean; done: Promise<void>; settle: (err?: unknown) => void } | undefined;
  private pumping: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private readonly watchdog: NodeJS.Timeout;
  private readonly log: Logger;
  private readonly startedAt: number;
  private markClosed!: () => void;
  private readonly closedSignal = new Promise<void>((resolve) => {
    this.markClosed = resolve;
  });

  constructor(
    private readonly deps: CardDeps,
    private readonly init: DraftInit,
  ) {
    this.lastShown = init.card.lastText;
    this.startedAt = deps.now();
    this.log = deps.logger.child({ msgId: init.message.id, outTrackId: init.card.id });
    this.watchdog = setTimeout(() => this.expire(), Math.max(0, init.closeBy - deps.now()));
    this.watchdog.unref();
  }

  get id(): string {
    return this.init.card.id;
  }

  update(textSoFar: string): void {
    if (this.final || this.closed) return;
    this.latest = textSoFar;
    this.kick();
  }

  finish(text: string, options: { failed?: boolean } = {}): Promise<void> {
    if (this.final) return this.final.done; // once: a watchdog or stop may have closed it already
    let settle!: (err?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      settle = (err) => (err === undefined ? resolve() : reject(err));
    });
    this.final = { text, failed: options.failed === true, done, settle };
    this.kick();
    return done;
  }

  /** Stop waiting for the interval (shutdown, watchdog): the card must close now. */
  hurry(): void {
    this.urgent = true;
    this.wakeUp?.();
  }

  /** Resolves once the card is closed (or given up), whatever the outcome. */
  settled(): Promise<void> {
    return this.closedSignal;
  }

  private expire(): void {
    if (this.closed) return;
    this.log.warn('card still open past the answer deadline; closing it', { final: this.final !== undefined });
    this.hurry();
    if (!this.final) void this.finish(CHAT_TEXTS.timeout, { failed: true }).catch(() => undefined);
  }

  private kick(): void {
    if (this.pumping || this.closed) return;
    this.pumping = this.pump()
      .catch((err: unknown) => this.final?.settle(err))
      .finally(() => {
        this.pumping = undefined;
        if (!this.closed && (this.final || (!this.broken && this.pendingContent() !== undefined))) this.kick();
      });
  }

  private async pump(): Promise<void> {
    while (!this.closed) {
      if (this.final) return this.deliverFinal(false);
      if (this.broken || this.pendingContent() === undefined) return;
      await this.sleep(this.nextSendAt() - this.deps.now());
      if (this.final) continue; // the final goes instead, after the same wait
      await this.deps.limiter.take('update');
      if (this.final) return this.deliverFinal(true); // use the slot for the final
      await this.sendUpdate();
    }
  }

  /** The card text for the latest answer so far, when there is something new to show. */
  private pendingContent(): string | undefined {
    if (this.latest === undefined) return undefined;
    const { shown } = cardContentOf(this.latest, CHAT_TEXTS.cardContinued, false);
    return shown.trim() === '' || shown === this.lastShown ? undefined : shown;
  }

  private async sendUpdate(): Promise<void> {
    const shown = this.pendingContent();
    if (shown === undefined) return;
    this.lastAttemptAt = this.deps.now();
    this.init.tally.add('card_update');
    try {
      await this.deps.cards.stream(this.id, shown, { guid: randomUUID() });
      this.lastShown = shown;
      this.updates++;
      this.deps.store.put({ ...this.init.card, lastText: shown }).catch(() => undefined); // best effort
    } catch (err) {
      this.noteFailure(toCardApiError(err), 1);
    }
  }

  private noteFailure(e: CardApiError, attempt: number): void {
    if (e.kind === 'throttled') {
      // Skip updates for a while; the latest text goes out after the pause.
      this.backoffUntil = this.deps.now() + Math.max(e.detail.retryAfterMs ?? 0, THROTTLE_BACKOFF_MS * attempt);
      this.log.warn('card update throttled by DingTalk; backing off', { attempt });
    } else if (e.kind === 'missing' || e.kind === 'permission') {
      this.broken = e;
      this.log.warn('card can no longer be updated', { kind: e.kind, code: e.detail.code, requiredScopes: e.detail.requiredScopes });
    } else {
      this.backoffUntil = this.deps.now() + 500 * attempt;
      this.log.warn('card update failed', { kind: e.kind, code: e.detail.code, status: e.detail.status, err: e.message });
    }
  }

  private async deliverFinal(slotHeld: boolean): Promise<void> {
    const { text, failed, settle } = this.final!;
    const content = cardContentOf(text, CHAT_TEXTS.cardContinued, true);
    const shown = content.shown.trim() === '' ? CHAT_TEXTS.failed : content.shown;
    const target = { ...this.init.card.target, final: true, failed };
    // If the process dies from here on, the start-up sweep closes the card with exactly this.
    await this.deps.store.put({ ...this.init.card, target, lastText: shown }).catch(() => undefined);
    let closedBy = (await this.finalize(shown, failed, slotHeld)) ? 'card' : undefined;
    if (!closedBy && this.broken?.kind !== 'missing' && (await this.closeByInstance(shown, failed))) closedBy = 'instance';
    try {
      if (closedBy) {
        if (content.rest.trim() !== '') await this.deps.markdown.send(this.init.message, content.rest, { partsBefore: 1, tally: this.init.tally });
        await this.forget();
      } else {
        // The card could not show the answer: it goes out whole as markdown, and the card is
        // closed later with a pointer to it (or was never there).
        if (this.broken?.kind === 'missing') await this.forget();
        else await this.deps.store.put({ ...this.init.card, target, lastText: CHAT_TEXTS.cardAnsweredBelow }).catch(() => undefined);
        await this.deps.markdown.send(this.init.message, text, { tally: this.init.tally });
      }
      settle();
    } catch (err) {
      settle(err);
    } finally {
      this.closed = true;
      this.markClosed();
      clearTimeout(this.watchdog);
      this.log.info('card answer finished', {
        failed,
        closedBy: closedBy ?? 'markdown',
        updates: this.updates,
        continued: content.rest.trim() !== '',
        dingtalkCalls: this.init.tally.toJSON(),
        durationMs: this.deps.now() - this.startedAt,
      });
    }
  }

  /** The final streaming update, retried a few times; true once DingTalk took it. */
  private async finalize(shown: string, failed: boolean, slotHeld: boolean): Promise<boolean> {
    let markFailed = failed;
    for (let attempt = 1; attempt <= FINAL_ATTEMPTS && !this.broken; attempt++) {
      if (!(attempt === 1 && slotHeld)) {
        await this.sleep(this.nextSendAt() - this.deps.now());
        if (!this.urgent) await this.deps.limiter.take('final');
      }
      this.lastAttemptAt = this.deps.now();
      this.init.tally.add('card_update');
      try {
        await this.deps.cards.stream(this.id, shown, { final: true, failed: markFailed, guid: randomUUID() });
        this.updates++;
        return true;
      } catch (err) {
        const e = toCardApiError(err);
        // A template without a failure state may refuse isError: close it as finished instead.
        if (e.kind === 'rejected' && markFailed) markFailed = false;
        else this.noteFailure(e, attempt);
      }
    }
    return false;
  }

  /** Without the streaming permission (or after the final kept failing): close by instance update. */
  private async closeByInstance(shown: string, failed: boolean): Promise<boolean> {
    this.init.tally.add('card_update');
    try {
      await this.deps.cards.closeByInstance(this.id, shown, failed);
      return true;
    } catch (err) {
      this.log.warn('card could not be closed by an instance update either', { err: String(err) });
      return false;
    }
  }

  private async forget(): Promise<void> {
    await this.deps.store.remove(this.id).catch((err: unknown) => this.log.warn('could not clear the open-card record', { err: String(err) }));
  }

  private nextSendAt(): number {
    return Math.max(this.lastAttemptAt + this.deps.intervalMs, this.backoffUntil);
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.urgent) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}
