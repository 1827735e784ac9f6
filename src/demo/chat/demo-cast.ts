/**
 * Who is in the simulated DingTalk: the bot, a teacher and a few students of one class group.
 * Ids look like DingTalk's (staff ids, `cid…` conversation ids) so the real parsing runs on them.
 */
export interface Person {
  /** The org user id (DingTalk `senderStaffId`). */
  readonly id: string;
  readonly name: string;
  readonly role: 'teacher' | 'student';
}

export interface Conversation {
  readonly id: string;
  readonly kind: 'direct' | 'group';
  readonly title: string;
  /** Staff ids of the people in it (a direct chat: the one person talking to the bot). */
  readonly memberIds: readonly string[];
}

export interface Cast {
  readonly bot: { readonly name: string; readonly userId: string };
  readonly people: readonly Person[];
  readonly group: Conversation;
}

export const DEMO_CAST: Cast = {
  bot: { name: 'AI助手', userId: '$:LWCP_v1:$demoBotUserId0001' },
  people: [
    { id: 'stu-liming', name: '李明 Li Ming', role: 'student' },
    { id: 'stu-zhangyue', name: '张悦 Zhang Yue', role: 'student' },
    { id: 'stu-emma', name: 'Emma 陈', role: 'student' },
    { id: 'teacher-wang', name: '王老师 Ms. Wang', role: 'teacher' },
  ],
  group: {
    id: 'cidDEMOgrade10class3xKF5x7Eeiod==',
    kind: 'group',
    title: '高一(3)班 · Grade 10 Class 3',
    memberIds: ['stu-liming', 'stu-zhangyue', 'stu-emma', 'teacher-wang'],
  },
};

/** The direct chat between one person and the bot. */
export function directConversation(person: Person): Conversation {
  return { id: `cidDEMOdm${person.id.replace(/[^a-z0-9]/gi, '')}==`, kind: 'direct', title: 'AI助手', memberIds: [person.id] };
}
