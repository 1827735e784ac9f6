/**
 * A conversation key names one assistant conversation. The prefix is a namespace, so an HTTP
 * session id can never address a chat conversation and the other way round: HTTP keys are built
 * only from a validated UUID, chat keys only from DingTalk ids the Stream transport received.
 */
export type ConversationKey = string & { readonly __brand: 'ConversationKey' };

/** `http:<uuid>`: one session of the `/assistant/ask` API. */
export function httpConversationKey(sessionId: string): ConversationKey {
  return `http:${sessionId.toLowerCase()}` as ConversationKey;
}

/** `dm:<conversation>`: a direct (1:1) chat with the bot. */
export function directConversationKey(conversationId: string): ConversationKey {
  return `dm:${keyPart(conversationId)}` as ConversationKey;
}

/**
 * `group:<conversation>:<member>` (each member has their own thread) or `group:<conversation>`
 * (the whole group shares one thread), after GROUP_SESSION_SCOPE.
 */
export function groupConversationKey(conversationId: string, memberId?: string): ConversationKey {
  return (memberId === undefined
    ? `group:${keyPart(conversationId)}`
    : `group:${keyPart(conversationId)}:${keyPart(memberId)}`) as ConversationKey;
}

/**
 * Platform ids may contain `:` (DingTalk sender ids do), which would let `cidA:B` + member `C`
 * and `cidA` + member `B:C` name one conversation. `%` and `:` are escaped, so a part never
 * contains the separator and different (conversation, member) pairs never share a key.
 */
function keyPart(id: string): string {
  return id.replace(/%/g, '%25').replace(/:/g, '%3A');
}
