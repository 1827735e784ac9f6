/**
 * Sends the bot's own direct message to staff who did not write to it (a counsellor alert).
 * A platform port: the DingTalk implementation lives with the robot replies.
 */
export interface DirectMessenger {
  /**
   * Sends `text` to each user (organisation user ids). Resolves the ids it could not reach
   * (unknown, refused or rate-limited by the platform); throws when the platform could not be
   * reached at all.
   */
  sendDirect(userIds: readonly string[], text: string): Promise<{ readonly undelivered: readonly string[] }>;
}
