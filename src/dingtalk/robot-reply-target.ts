/**
 * What the robot replier needs to answer a message, kept inside ChatMessage.replyTarget (the
 * chat layer treats it as opaque JSON). A type alias, so it is assignable to a plain record.
 */
export type RobotReplyTarget = {
  /** The message's sessionWebhook (no token needed), when DingTalk sent one. */
  readonly webhook?: string;
  /** Epoch ms after which the webhook answers errcode 300001. */
  readonly webhookExpiresAt?: number;
  readonly conversationType: 'direct' | 'group';
  /** openConversationId for the group OpenAPI send. */
  readonly conversationId: string;
  /** The sender's org user id: the @ in groups and the recipient of a direct OpenAPI send. */
  readonly staffId?: string;
};

export function isRobotReplyTarget(value: unknown): value is RobotReplyTarget {
  const t = value as Partial<RobotReplyTarget> | null;
  return (
    typeof t === 'object' &&
    t !== null &&
    (t.conversationType === 'direct' || t.conversationType === 'group') &&
    typeof t.conversationId === 'string'
  );
}
