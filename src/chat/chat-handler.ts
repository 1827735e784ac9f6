import type { ChatLimitsConfig, Config } from '../config/config.js';
import { directConversationKey, groupConversationKey, type ConversationKey } from '../engine/conversation-key.js';
import type { ConversationService, ConversationTurn } from '../engine/types.js';
import { BusyError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { QuestionMeter } from '../metrics/bridge-metrics.js';
import type { QuestionPolicy } from '../policy/question-policy.js';
import { parseTeacherCommand } from '../policy/teacher-commands.js';
import type { MessageLedger } from '../storage/message-ledger.js';
import type { ChatMessage, ChatReplier, ChatSink } from './chat-message.js';
import { cannedText, CHAT_TEXTS } from './chat-texts.js';
import { classifyMessage } from './classify-message.js';
import { HandlingCancelled, type QuestionReply } from './answer-question.js';
import { type GateVerdict, MessageGate } from './message-gate.js';
import { decideQuestion, type QuestionAudit } from './question-flow.js';
import { InFlightWork } from './in-flight-work.js';
import { RefusalNotices } from './refusal-notices.js';
import { ThinkingNoticeRation } from './thinking-notice-ration.js';

/**
 * The chat settings of Config (GROUP_SESSION_SCOPE, THINKING_NOTICE_SECONDS (0 = no notice),
 * USER_RATE_LIMIT, ALLOWED_GROUPS / ALLOWED_USERS (empty = everyone), MESSAGE_MAX_AGE_MINUTES)
 * plus the collaborators.
 */
export interface ChatHandlerOptions extends Omit<Config['chat'], 'streamEnabled'> {
  readonly engine: ConversationService;
  readonly ledger: MessageLedger;
  readonly replier: ChatReplier;
  /** School policy: roles, checks, labels, audit (src/policy). */
  readonly policy: QuestionPolicy;
  readonly logger: Logger;
  /** Counts each question message once, when its reply went out (or with its audit record). */
  readonly questions?: QuestionMeter;
  /** How often refusals and group thinking notices may be said (default: 60 s and 30 s). */
  readonly limits?: Pick<ChatLimitsConfig, 'refusalNoticeMs' | 'groupThinkingNoticeMs'>;
  readonly now?: () => number;
}

/** What a recorded reply carries for the audit record written once it is delivered. */
type RecordedAudit = QuestionAudit & { readonly startedAt: number };

/**
 * The chat side of the bot: admits a message into the ledger (the redelivery guard), checks it
 * (age, allow-lists, the sender's rate) and handles it in the background as one turn of its
 * conversation (the engine's lane), so a command queued behind a question is applied after the
 * question's answer went out. Refusals are said once per sender and conversation per window.
 */
export class ChatHandler implements ChatSink {
  private readonly gate: MessageGate;
  private readonly refusals: RefusalNotices;
  private readonly noticeRation: ThinkingNoticeRation;
  private readonly now: () => number;
  private readonly work: InFlightWork;

  constructor(private readonly options: ChatHandlerOptions) {
    this.now = options.now ?? Date.now;
    this.work = new InFlightWork(options.logger);
    this.gate = new MessageGate({ ...options, now: this.now });
    this.refusals = new RefusalNotices(options.limits?.refusalNoticeMs ?? 60_000, this.now);
    this.noticeRation = new ThinkingNoticeRation(options.limits?.groupThinkingNoticeMs ?? 30_000, this.now);
  }

  /**
   * Records the message in the ledger and, unless the gate refuses it, queues its handling
   * behind earlier messages of the same conversation (the place in line is taken now, in
   * arrival order). Resolves once the message is recorded, which is when the caller acks it:
   * false for a redelivery. Rejects when it could not be recorded: the caller must not ack, so
   * the platform delivers it again (nothing is answered that a crash could answer twice).
   */
  accept(message: ChatMessage): Promise<boolean> {
    const log = this.options.logger.child({ msgId: message.id });
    const admission = this.options.ledger.admit({ id: message.id, admittedAt: this.now(), payload: message }).catch((err: unknown) => {
      log.error('could not record a chat message; not acknowledging it so DingTalk delivers it again', { err: String(err) });
      this.sayUnavailable(message, log);
      throw err;
    });
    const admitted = admission.catch(() => false);
    this.arrivals.set(message, this.now());
    const verdict = this.gate.check(message, log, true);
    this.track(message, verdict.kind === 'pass' ? this.handle(message, admitted, undefined) : this.refuse(message, admitted, verdict));
    return admission;
  }

  /** Answers messages a previous process admitted but did not finish (oldest first). */
  async recover(): Promise<number> {
    let resumed = 0;
    // The ledger lists them in arrival order (same-millisecond admits included).
    const { ledger } = this.options;
    const entries = await (ledger.recoverable ? ledger.recoverable() : ledger.pending());
    await this.options.replier.adoptOpenAnswers?.(new Set(entries.map((e) => e.id)));
    for (const entry of entries) {
      if (!isChatMessage(entry.payload)) {
        await this.options.ledger.complete(entry.id);
        continue;
      }
      const recordedReply = typeof entry.progress?.reply === 'string' ? entry.progress.reply : undefined;
      const audit = entry.progress?.audit as RecordedAudit | undefined;
      this.options.logger.info('resuming a chat message left unanswered', { msgId: entry.id, replyReady: recordedReply !== undefined });
      this.arrivals.set(entry.payload, entry.admittedAt);
      this.track(entry.payload, this.handle(entry.payload, Promise.resolve(true), recordedReply === undefined ? undefined : { text: recordedReply, audit }));
      resumed++;
    }
    return resumed;
  }

  /**
   * Lets in-flight messages finish for `graceMs`, then cancels the rest; those stay pending in
   * the ledger for the next process. Resolves within about `graceMs` + `cancelMs`.
   */
  stop(graceMs = 4_000, cancelMs = 1_000): Promise<void> {
    return this.work.stop(graceMs, cancelMs);
  }

  private track(message: ChatMessage, work: Promise<void>): void {
    this.work.track(message.id, work);
  }

  /** Takes the conversation's place in line synchronously; the rest waits for admission. */
  private async handle(message: ChatMessage, admission: Promise<boolean>, recorded: RecordedReply | undefined): Promise<void> {
    const key = this.conversationKey(message);
    const log = this.options.logger.child({ msgId: message.id, conversationKey: key });
    try {
      await this.options.engine.inConversation(key, async (turn) => {
        if (!(await admission)) return;
        // In a burst, every frame is recorded and acked before any answer takes the CPU.
        await this.options.ledger.idle();
        await this.process(message, turn, log, recorded);
      });
    } catch (err) {
      if (!(err instanceof BusyError)) throw err;
      log.warn('conversation queue full');
      await this.refuse(message, admission, { kind: 'refuse', text: CHAT_TEXTS.busy, outcome: 'busy' });
    }
  }

  /**
   * Storage is down: the message stays unacked (DingTalk delivers it again and it is answered
   * once storage is back), but the user hears one friendly sentence meanwhile, rationed like
   * refusals so redeliveries do not repeat it.
   */
  private sayUnavailable(message: ChatMessage, log: Logger): void {
    if (!this.refusals.claim(message)) return;
    void this.options.replier.reply(message, CHAT_TEXTS.unavailable).catch((err: unknown) => {
      log.warn('could not say that the assistant is unavailable', { err: String(err) });
    });
  }

  /** A message the gate or a full line turned away: completed, audited, and answered once per window. */
  private async refuse(message: ChatMessage, admission: Promise<boolean>, verdict: Exclude<GateVerdict, { kind: 'pass' }>): Promise<void> {
    if (!(await admission)) return;
    if (verdict.kind === 'drop') return this.options.ledger.complete(message.id);
    const key = this.conversationKey(message);
    await this.replyOnce(message, verdict.text, this.options.logger.child({ msgId: message.id, conversationKey: key }));
    await this.auditRefused(message, key, verdict.outcome);
  }

  /** Says a refusal unless this sender heard one in this conversation within the window. */
  private async replyOnce(message: ChatMessage, text: string, log: Logger): Promise<void> {
    if (this.refusals.claim(message)) return this.replyAndComplete(message, text, log);
    log.info('refusal not repeated within the window');
    await this.options.ledger.complete(message.id);
  }

  /** Runs as the conversation's turn: one message of a conversation at a time. */
  private async process(message: ChatMessage, turn: ConversationTurn, log: Logger, recorded?: RecordedReply): Promise<void> {
    if (this.work.signal.aborted) return; // shutting down: stays pending for the next process
    // Age again (it may have waited in line, or in the ledger across a restart); counted already.
    const verdict = this.gate.check(message, log, false);
    if (verdict.kind !== 'pass') return this.refuse(message, Promise.resolve(true), verdict);
    // An earlier process got the answer but stopped before it was delivered: send that.
    if (recorded !== undefined) {
      await this.replyAndComplete(message, recorded.text, log);
      return recorded.audit && this.audit(message, turn.key, recorded.audit);
    }
    const intent = classifyMessage(message.content);
    let text: string;
    switch (intent.kind) {
      case 'question':
        return this.question(message, turn, intent.text, log);
      case 'new-conversation':
        await turn.reset();
        log.info('conversation reset by the user');
        text = CHAT_TEXTS.newConversation;
        break;
      case 'help': {
        const teacher = this.options.policy.chatAsker(message, turn.key).role === 'teacher';
        text = teacher ? `${CHAT_TEXTS.help}\n\n${CHAT_TEXTS.teacherHelp}` : CHAT_TEXTS.help;
        break;
      }
      default:
        log.info('chat message not for the assistant', { intent: intent.kind });
        text = cannedText(intent.kind, 'limit' in intent ? intent.limit : 0);
    }
    await this.replyAndComplete(message, text, log);
  }

  /**
   * A question through school policy (src/policy): the reply (or a silent completion when a
   * one-time notice was given before), then its audit record once it is delivered.
   */
  private async question(message: ChatMessage, turn: ConversationTurn, text: string, log: Logger): Promise<void> {
    const startedAt = this.options.policy.clock.now();
    let outcome;
    try {
      const { noticeRation } = this;
      outcome = await decideQuestion({ ...this.options, noticeRation, turn, message, text, signal: this.work.signal, log });
    } catch (err) {
      if (err instanceof HandlingCancelled) return;
      throw err;
    }
    const audit = outcome.audit && { ...outcome.audit, startedAt };
    if (outcome.text === undefined) {
      await this.options.ledger.complete(message.id);
    } else if (outcome.reply === undefined && audit?.outcome === 'blocked') {
      await this.replyOnce(message, outcome.text, log); // a refusal by school policy, said once per window
    } else {
      await this.recordReply(message, outcome.text, log, audit);
      // Counted once the reply went out, even when the ledger cannot be told (store down).
      await this.replyAndComplete(message, outcome.text, log, outcome.reply).finally(() => audit && this.countQuestion(message, audit.outcome));
    }
    await outcome.afterReply;
    if (audit) await this.audit(message, turn.key, audit);
  }

  private audit(message: ChatMessage, key: ConversationKey, audit: RecordedAudit): Promise<void> {
    this.countQuestion(message, audit.outcome);
    return this.options.policy.record(this.options.policy.chatAsker(message, key), { id: `chat:${message.id}`, ...audit });
  }

  // --- Metrics (issue 12): one count per question message: its reply sent, or its audit record. ---
  private readonly arrivals = new WeakMap<ChatMessage, number>();
  private readonly counted = new WeakSet<ChatMessage>();

  private countQuestion(message: ChatMessage, outcome: RecordedAudit['outcome']): void {
    if (this.counted.has(message)) return;
    this.counted.add(message);
    this.options.questions?.count(outcome, this.arrivals.get(message) ?? message.createdAt);
  }
  // --- end of metrics ---

  /** A question refused before policy looked at it (not allowed, too fast, queue full) is still audited. */
  private async auditRefused(message: ChatMessage, key: ConversationKey, outcome: RecordedAudit['outcome']): Promise<void> {
    const intent = classifyMessage(message.content);
    if (intent.kind !== 'question' || parseTeacherCommand(intent.text)) return;
    await this.audit(message, key, { outcome, startedAt: this.options.policy.clock.now() });
  }

  /**
   * Keeps the answer with the message before it is sent, so a process killed before the send
   * is confirmed delivers this text after the restart instead of asking the assistant again.
   */
  private async recordReply(message: ChatMessage, text: string, log: Logger, audit?: RecordedAudit): Promise<void> {
    try {
      // The audit keeps no text: question and answer stay out of it even until delivery.
      const { question: _q, answer: _a, ...meta } = audit ?? {};
      await this.options.ledger.update(message.id, audit ? { reply: text, audit: meta } : { reply: text });
    } catch (err) {
      log.warn('could not record the answer before sending it', { err: String(err) });
    }
  }

  private async replyAndComplete(message: ChatMessage, text: string, log: Logger, question?: QuestionReply): Promise<void> {
    try {
      if (question?.draft) await question.draft.finish(text, { failed: question.failed });
      else await this.options.replier.reply(message, text);
    } catch (err) {
      // Not retried: asking the assistant again on restart would answer twice if it did arrive.
      log.error('reply could not be delivered', { err: String(err) });
    }
    await this.options.ledger.complete(message.id);
  }

  private conversationKey(message: ChatMessage): ConversationKey {
    const { conversation, sender } = message;
    if (conversation.kind === 'direct') return directConversationKey(conversation.id);
    return this.options.groupSessionScope === 'group'
      ? groupConversationKey(conversation.id)
      : groupConversationKey(conversation.id, sender.id);
  }
}

/** A reply an earlier process recorded but had not delivered, with what its audit record needs. */
interface RecordedReply {
  readonly text: string;
  readonly audit?: RecordedAudit;
}

function isChatMessage(value: unknown): value is ChatMessage {
  const m = value as Partial<ChatMessage> | null;
  return typeof m?.id === 'string' && typeof m.conversation?.id === 'string' && typeof m.content?.kind === 'string';
}
