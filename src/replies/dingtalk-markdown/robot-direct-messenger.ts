import type { DirectMessenger } from '../../chat/direct-messenger.js';
import type { DingTalkApi } from '../../dingtalk/dingtalk-api.js';

export interface RobotDirectMessengerOptions {
  readonly api: DingTalkApi;
  /** The robot's code, which is the app key. */
  readonly robotCode: string;
  /** Timeout of one send (DINGTALK_TIMEOUT_SECONDS). */
  readonly timeoutMs: number;
}

/** DingTalk allows at most 20 recipients per one-to-one batch send. */
const MAX_RECIPIENTS = 20;

/**
 * Direct messages as the app robot through the one-to-one batch send
 * (`POST /v1.0/robot/oToMessages/batchSend`, the call the markdown replier falls back to), in
 * markdown. DingTalk lists recipients it refused or rate-limited; those come back undelivered.
 */
export class RobotDirectMessenger implements DirectMessenger {
  constructor(private readonly options: RobotDirectMessengerOptions) {}

  async sendDirect(userIds: readonly string[], text: string): Promise<{ undelivered: string[] }> {
    const undelivered: string[] = [];
    const msgParam = JSON.stringify({ title: text.split('\n')[0]!.slice(0, 24) || 'AI 助手', text });
    for (let i = 0; i < userIds.length; i += MAX_RECIPIENTS) {
      const batch = userIds.slice(i, i + MAX_RECIPIENTS);
      const res = await this.options.api.request<{ invalidStaffIdList?: string[]; flowControlledStaffIdList?: string[] }>({
        method: 'POST',
        path: '/v1.0/robot/oToMessages/batchSend',
        body: { robotCode: this.options.robotCode, userIds: batch, msgKey: 'sampleMarkdown', msgParam },
        timeoutMs: this.options.timeoutMs,
      });
      const refused = new Set([...(res?.invalidStaffIdList ?? []), ...(res?.flowControlledStaffIdList ?? [])]);
      undelivered.push(...batch.filter((id) => refused.has(id)));
    }
    return { undelivered };
  }
}
