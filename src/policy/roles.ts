import type { ChatSender } from '../chat/chat-message.js';

/** Who is asking, for prompts and fair-use rules. */
export type Role = 'student' | 'teacher';

export interface RoleRules {
  /** TEACHER_USERS: staff ids of teachers. */
  readonly teachers: ReadonlySet<string>;
  /** TEACHERS_FROM_ADMINS: DingTalk organisation admins count as teachers. */
  readonly teachersFromAdmins: boolean;
}

/** Teachers are listed (or admins, when allowed); everyone else in chat is a student. */
export function roleOf(sender: ChatSender, rules: RoleRules): Role {
  if (rules.teachers.has(sender.id)) return 'teacher';
  if (rules.teachersFromAdmins && sender.isAdmin === true) return 'teacher';
  return 'student';
}
