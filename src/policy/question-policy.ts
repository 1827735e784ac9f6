import type { TokenUsage } from '../backends/assistant-backend.js';
import type { ChatMessage } from '../chat/chat-message.js';
import { CHAT_TEXTS } from '../chat/chat-texts.js';
import type { DirectMessenger } from '../chat/direct-messenger.js';
import type { PolicyConfig } from '../config/policy-env.js';
import { pseudonymOf } from '../engine/pseudonym.js';
import type { Logger } from '../logger.js';
import type { AuditOutcome } from '../storage/audit-trail.js';
import type { PolicyStores } from '../storage/policy-stores.js';
import { AnswerFilter } from './answer-filter.js';
import type { Asker } from './asker.js';
import { BlockedQuestionCheck } from './blocked-question-check.js';
import { CounsellorAlerts } from './counsellor-alerts.js';
import { CRISIS_PHRASES } from './crisis-phrases.js';
import { CrisisCheck } from './crisis-check.js';
import { ExamCheck } from './exam-check.js';
import { scrubPersonalData } from './personal-data-scrub.js';
import { PhraseMatcher } from './phrase-matcher.js';
import { isStop, type QuestionCheck, type Stop } from './question-check.js';
import { QuietHoursCheck } from './quiet-hours-check.js';
import { QuotaCheck } from './quota-check.js';
import { type Role, roleOf, type RoleRules } from './roles.js';
import { SchoolClock } from './school-clock.js';
import { TeacherCommands } from './teacher-commands.js';

export interface QuestionPolicyOptions {
  readonly config: PolicyConfig;
  readonly stores: PolicyStores;
  /** The storage's secret for pseudonyms (`Storage.pseudonymKey`). */
  readonly pseudonymKey: string;
  /** ASSISTANT_BACKEND, for the audit trail. */
  readonly backendName: string;
  /** Counsellor alerts go out through it (absent: counsellors cannot be reached). */
  readonly messenger?: DirectMessenger;
  /** How long a conversation lives (the personal-data notice is given once per conversation). */
  readonly sessionTtlMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** What to do with a question once policy has looked at it. */
export type Screening =
  | { readonly kind: 'stop'; readonly stop: Stop }
  | {
      readonly kind: 'ask';
      /** The question as the model may see it (personal data masked). */
      readonly text: string;
      readonly role: Role;
      readonly systemPrompt: string;
      /** A line to show above the answer (personal data was removed), once per conversation. */
      readonly notice?: string;
      /** Gives back what the checks took (a quota question) when the question then fails. */
      readonly undo?: () => Promise<void>;
    };

/** What the audit trail (and, in a review period, the transcript) keeps about one question. */
export interface QuestionRecord {
  readonly id: string;
  readonly startedAt: number;
  readonly outcome: AuditOutcome;
  readonly usage?: TokenUsage;
  /** Only for a review period (TRANSCRIPT_RETENTION_DAYS > 0) and answered questions. */
  readonly question?: string;
  readonly answer?: string;
}

/**
 * School policy for one question, shared by the chat bot and the HTTP API: the checks in order
 * (crisis, quiet hours, exam, blocked words, quota), the personal-data scrub, the role's prompt,
 * the answer filter, the AI label and the audit record.
 */
export class QuestionPolicy {
  readonly clock: SchoolClock;
  readonly aiLabel: string;
  /** `/exam` and `/quota` (chat). */
  readonly commands: TeacherCommands;
  private readonly checks: readonly QuestionCheck[];
  private readonly blocked: PhraseMatcher;
  private readonly roles: RoleRules;

  constructor(private readonly options: QuestionPolicyOptions) {
    const { config, stores, logger } = options;
    this.clock = new SchoolClock(config.fairUse.timeZone, options.now);
    this.aiLabel = config.aiLabel;
    this.blocked = new PhraseMatcher(config.blockedWords);
    this.roles = { teachers: new Set(config.roles.teachers), teachersFromAdmins: config.roles.teachersFromAdmins };
    this.commands = new TeacherCommands({
      stores,
      clock: this.clock,
      dailyQuota: config.fairUse.studentDailyQuota,
      subjectOf: (staffId) => this.pseudonym(staffId),
      logger,
    });
    const alerts = new CounsellorAlerts({
      counsellors: config.crisis.counsellors,
      shareText: config.crisis.shareText,
      messenger: options.messenger,
      notices: stores.notices,
      clock: this.clock,
      logger,
    });
    this.checks = [
      new CrisisCheck({
        phrases: new PhraseMatcher([...CRISIS_PHRASES, ...config.crisis.extraPhrases]),
        reply: config.crisis.reply,
        counsellorContact: config.crisis.counsellorContact,
        alerts,
        logger,
      }),
      new QuietHoursCheck(config.fairUse.quietHours, stores.notices),
      new ExamCheck(stores.exams, stores.notices, this.clock),
      new BlockedQuestionCheck(this.blocked, logger),
      new QuotaCheck(config.fairUse.studentDailyQuota, stores.quotas, stores.notices),
    ];
  }

  /** The asker of a chat message in the conversation `key`: teacher or student, by pseudonym. */
  chatAsker(message: ChatMessage, key: string): Asker {
    const { conversation, sender } = message;
    return {
      transport: 'chat',
      role: roleOf(sender, this.roles),
      subject: this.pseudonym(sender.id),
      conversation: conversation.kind === 'group' ? 'group' : 'dm',
      conversationRef: this.pseudonym(key),
      ...(conversation.kind === 'group' && { groupId: conversation.id, groupName: conversation.title }),
      person: { id: sender.id, name: sender.name },
    };
  }

  /** An `/assistant/ask` caller: no identity, so the session stands for the asker (ASK_API_ROLE). */
  httpAsker(key: string): Asker {
    const ref = this.pseudonym(key);
    return { transport: 'http', role: this.options.config.roles.httpRole, subject: ref, conversation: 'http', conversationRef: ref };
  }

  /** Runs the checks in order; the first that stops the question decides. */
  async screen(asker: Asker, text: string): Promise<Screening> {
    const now = this.clock.now();
    const input = { asker, text, now, time: this.clock.at(now) };
    let undo: (() => Promise<void>) | undefined;
    for (const check of this.checks) {
      if (!check.appliesTo(asker)) continue;
      const verdict = await check.check(input);
      if (isStop(verdict)) return { kind: 'stop', stop: verdict };
      if (verdict) undo = verdict.undo;
    }
    const scrubbed = scrubPersonalData(text);
    const notice = scrubbed.removed.length > 0 && (await this.firstInConversation('personal-data', asker, now));
    return {
      kind: 'ask',
      text: scrubbed.text,
      role: asker.role,
      systemPrompt: this.options.config.prompts[asker.role],
      ...(notice && { notice: CHAT_TEXTS.personalDataRemoved }),
      ...(undo && { undo }),
    };
  }

  /** The blocked-words filter for one answer. */
  answerFilter(): AnswerFilter {
    return new AnswerFilter(this.blocked, this.options.logger);
  }

  /** The answer as users see it: the notice (if any) above, the AI label at the end. */
  present(answer: string, notice?: string): string {
    const body = notice ? `${notice}\n\n${answer}` : answer;
    return `${body.replace(/\s+$/, '')}\n\n${this.aiLabel}`;
  }

  /** Appends the audit record (and a review transcript when enabled). Never rejects: failures are logged. */
  async record(asker: Asker, record: QuestionRecord): Promise<void> {
    const { stores, config, backendName, logger } = this.options;
    try {
      await stores.audit.append({
        id: record.id,
        at: record.startedAt,
        transport: asker.transport,
        user: asker.subject,
        role: asker.role,
        conversation: asker.conversation,
        groupId: asker.groupId,
        groupName: asker.groupName,
        backend: backendName,
        outcome: record.outcome,
        latencyMs: this.clock.now() - record.startedAt,
        promptTokens: record.usage?.promptTokens,
        completionTokens: record.usage?.completionTokens,
      });
      if (config.retention.transcriptDays > 0 && record.outcome === 'answered' && record.question && record.answer) {
        await stores.transcripts.append({
          id: record.id,
          at: record.startedAt,
          user: asker.subject,
          role: asker.role,
          conversation: asker.conversation,
          groupName: asker.groupName,
          question: record.question,
          answer: record.answer,
        });
      }
    } catch (err) {
      logger.error('could not write the audit record', { auditId: record.id, outcome: record.outcome, err: String(err) });
    }
  }

  private pseudonym(value: string): string {
    return pseudonymOf(value, this.options.pseudonymKey);
  }

  private firstInConversation(notice: string, asker: Asker, now: number): Promise<boolean> {
    return this.options.stores.notices.claim(`${notice}:${asker.conversationRef}`, now + this.options.sessionTtlMs, now);
  }
}
