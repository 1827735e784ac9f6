import type { RateLimit } from '../config/config.js';
import type { Logger } from '../logger.js';
import type { AuditOutcome } from '../storage/audit-trail.js';
import type { ChatMessage } from './chat-message.js';
import { CHAT_TEXTS } from './chat-texts.js';
import { messageAge } from './message-age.js';
import { SenderRateLimit } from './sender-rate-limit.js';

export interface MessageGateOptions {
  readonly messageMaxAgeMs: number;
  readonly allowedGroups: readonly string[];
  readonly allowedUsers: readonly string[];
  readonly userRateLimit: RateLimit;
  /** Where "the clock looks wrong" goes (rationed, at error level). */
  readonly logger: Logger;
  readonly now: () => number;
}

/** What happens to a message before it may join its conversation's line. */
export type GateVerdict =
  | { readonly kind: 'pass' }
  /** Too old to answer: completed without a word. */
  | { readonly kind: 'drop' }
  /** Refused with a short reply (rationed by the caller). */
  | { readonly kind: 'refuse'; readonly text: string; readonly outcome: AuditOutcome };

/** Our clock may differ from DingTalk's by this much before an operator is told. */
export const CLOCK_SKEW_TOLERANCE_MS = 120_000;
/** "The clock looks wrong" is logged at most this often. */
const CLOCK_LOG_EVERY_MS = 10 * 60_000;

/**
 * The cheap checks every chat message passes before it is queued: its age (by the platform's
 * clock where known), the allow-lists, and the sender's rate (USER_RATE_LIMIT), so a burst from
 * one sender never takes places in a conversation's line.
 */
export class MessageGate {
  private readonly rate: SenderRateLimit;
  private clockLoggedAt = -Infinity;

  constructor(private readonly options: MessageGateOptions) {
    this.rate = new SenderRateLimit(options.userRateLimit, options.now);
  }

  /** `countRate` is false for a message counted before (recovery after a restart). */
  check(message: ChatMessage, log: Logger, countRate: boolean): GateVerdict {
    if (this.tooOld(message, log)) return { kind: 'drop' };
    if (!this.isAllowed(message)) {
      log.info('chat message from a group or user that is not allowed', { senderId: message.sender.id });
      return { kind: 'refuse', text: CHAT_TEXTS.notEnabled, outcome: 'not_allowed' };
    }
    if (!countRate || this.rate.check(message.sender.id) === 'allowed') return { kind: 'pass' };
    log.info('sender rate limit reached', { senderId: message.sender.id });
    return { kind: 'refuse', text: CHAT_TEXTS.slowDown, outcome: 'limited' };
  }

  private tooOld(message: ChatMessage, log: Logger): boolean {
    const age = messageAge(message, this.options.now());
    const tooOld = age.ageMs > this.options.messageMaxAgeMs;
    this.watchClock(age.clockSkewMs, tooOld);
    if (tooOld) {
      log.warn('dropping a chat message too old to answer', {
        ageMs: age.ageMs,
        serverClockAgeMs: age.serverClockAgeMs,
        clockSkewMs: age.clockSkewMs,
      });
    }
    return tooOld;
  }

  /** A server clock far from DingTalk's is an operator's problem: say so (at most every 10 min). */
  private watchClock(skewMs: number | undefined, dropping: boolean): void {
    if (skewMs === undefined || Math.abs(skewMs) <= CLOCK_SKEW_TOLERANCE_MS) return;
    const now = this.options.now();
    if (now - this.clockLoggedAt < CLOCK_LOG_EVERY_MS) return;
    this.clockLoggedAt = now;
    const seconds = Math.round(Math.abs(skewMs) / 1000);
    this.options.logger.error(`the server clock looks wrong: it is ${seconds} s ${skewMs > 0 ? 'ahead of' : 'behind'} DingTalk's`, {
      clockSkewMs: skewMs,
      droppingAsTooOld: dropping,
      hint: "message ages are judged by DingTalk's clock; sync the server clock (NTP, e.g. timedatectl set-ntp true)",
    });
  }

  private isAllowed(message: ChatMessage): boolean {
    const { allowedGroups, allowedUsers } = this.options;
    if (allowedUsers.length > 0 && !allowedUsers.includes(message.sender.id)) return false;
    if (message.conversation.kind !== 'group' || allowedGroups.length === 0) return true;
    return allowedGroups.includes(message.conversation.id);
  }
}
