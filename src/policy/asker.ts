import type { Role } from './roles.js';

/** Who asks a question and from where, in the words policy needs (no platform names). */
export interface Asker {
  readonly transport: 'chat' | 'http';
  readonly role: Role;
  /**
   * A pseudonym of the person (chat: an HMAC of the sender id) or of the HTTP session: what
   * quotas, notices and the audit trail are keyed by. Never a staff id or name.
   */
  readonly subject: string;
  readonly conversation: 'dm' | 'group' | 'http';
  /** A pseudonym of the conversation (for once-per-conversation notices). */
  readonly conversationRef: string;
  readonly groupId?: string;
  readonly groupName?: string;
  /** The person, for a counsellor alert only (chat; HTTP callers have no identity). */
  readonly person?: { readonly id: string; readonly name?: string };
}
