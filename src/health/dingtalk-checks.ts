import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.js';
import { DingTalkApiError, type DingTalkRequest } from '../dingtalk/dingtalk-api.js';
import type { DingTalkHttpClient } from '../dingtalk/dingtalk-http-client.js';
import type { SecretRedactor } from '../logger.js';
import { GatewayError, requestGatewayTicket } from '../transports/dingtalk-stream/gateway-ticket.js';
import { ROBOT_TOPIC } from '../transports/dingtalk-stream/stream-frame.js';
import { failed, passed, type CheckResult } from './check-result.js';
import { badCredentials, commonDingTalkFailure, gatewayRefused, isPermissionDenied, unexpectedAnswer, unreachable } from './dingtalk-failures.js';

export interface DingTalkCheckDeps {
  readonly api: DingTalkHttpClient;
  readonly config: Config;
}

/** The access token: DingTalk accepts DING_APP_KEY / DING_APP_SECRET. Free while a token is cached. */
export async function checkCredentials({ api, config }: DingTalkCheckDeps, signal: AbortSignal): Promise<CheckResult> {
  try {
    await api.checkCredentials({ signal });
    return passed(`DING_APP_KEY=${config.dingtalk.appKey}`);
  } catch (err) {
    return (
      commonDingTalkFailure(err, config.dingtalk.apiBase) ??
      unexpectedAnswer(err, { zh: '获取访问令牌失败', en: 'the access token request failed' })
    );
  }
}

/**
 * Stream registration: the gateway hands out a ticket only to a published app whose robot
 * receives in Stream mode. The ticket is never used (no socket is opened) and never printed.
 */
export async function checkStreamGateway(config: Config, redactor: SecretRedactor): Promise<CheckResult> {
  try {
    const { ticket } = await requestGatewayTicket({
      apiBase: config.dingtalk.apiBase,
      clientId: config.dingtalk.appKey,
      clientSecret: config.dingtalk.appSecret,
      subscriptions: [{ type: 'CALLBACK', topic: ROBOT_TOPIC }],
      ua: 'dingtalk-assistant-bridge/0.1 (doctor)',
      timeoutMs: config.dingtalk.timeoutMs,
    });
    redactor.add(ticket);
    return passed();
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    if (err.kind === 'credentials') return badCredentials(err.code || `HTTP ${err.status}`);
    if (err.kind === 'unavailable') return unreachable(config.dingtalk.apiBase, err.message);
    return gatewayRefused(`HTTP ${err.status} ${err.code ?? ''}`.trim());
  }
}

const ROBOT_MISSING = /chatbot\.?not\.?found|robot.*(not\.?exist|nonexist)|resource\.not\.found/i;

/**
 * The robot may send (qyapi_robot_sendmsg), probed without sending anything: a one-to-one send
 * to nobody. DingTalk checks the token's permission first (403 when it is missing) and only then
 * refuses the empty recipient list.
 */
export async function checkRobotSend({ api, config }: DingTalkCheckDeps, signal: AbortSignal): Promise<CheckResult> {
  const probe: DingTalkRequest = {
    method: 'POST',
    path: '/v1.0/robot/oToMessages/batchSend',
    body: { robotCode: config.dingtalk.appKey, userIds: [], msgKey: 'sampleMarkdown', msgParam: JSON.stringify({ title: '-', text: '-' }) },
    signal,
  };
  try {
    await api.request(probe);
    return passed();
  } catch (err) {
    if (isPermissionDenied(err)) {
      return failed(
        { zh: '应用没有“企业内机器人发送消息权限”（qyapi_robot_sendmsg）', en: 'the app lacks the robot send permission (qyapi_robot_sendmsg)' },
        {
          zh: '开发者后台 → 权限管理：开通“企业内机器人发送消息权限”，然后重新发布应用',
          en: 'Developer console → Permissions: add the robot send permission (qyapi_robot_sendmsg), then publish the app again',
        },
      );
    }
    if (err instanceof DingTalkApiError && ROBOT_MISSING.test(err.code)) {
      return failed(
        { zh: `DING_APP_KEY 的应用没有机器人（${err.code}）`, en: `the app of DING_APP_KEY has no robot (${err.code})` },
        { zh: '开发者后台 → 添加应用能力 → 机器人（Stream 模式），然后发布应用', en: 'Developer console → add the robot capability (Stream mode), then publish the app' },
      );
    }
    const common = commonDingTalkFailure(err, config.dingtalk.apiBase);
    if (common) return common;
    if (err instanceof DingTalkApiError && err.status >= 400 && err.status < 500) return passed(); // refused only for having no recipient
    return unexpectedAnswer(err, { zh: '机器人发送权限检查失败', en: 'the robot send check failed' });
  }
}

/**
 * The AI-card permissions (card reply mode): an update of a card that does not exist. Each
 * call needs its scope first (403 without it); then DingTalk refuses the unknown card.
 */
export async function checkCardPermissions({ api, config }: DingTalkCheckDeps, signal: AbortSignal): Promise<CheckResult> {
  const outTrackId = `card_probe_${randomUUID()}`;
  const probes: Array<{ scope: string; req: DingTalkRequest }> = [
    {
      scope: 'Card.Streaming.Write',
      req: { method: 'PUT', path: '/v1.0/card/streaming', body: { outTrackId, guid: randomUUID(), key: 'content', content: ' ', isFull: true, isFinalize: false, isError: false }, signal },
    },
    {
      scope: 'Card.Instance.Write',
      req: { method: 'PUT', path: '/v1.0/card/instances', body: { outTrackId, cardData: { cardParamMap: { flowStatus: '1' } } }, signal },
    },
  ];
  const missing: string[] = [];
  for (const { scope, req } of probes) {
    try {
      await api.request(req);
    } catch (err) {
      if (isPermissionDenied(err)) {
        missing.push(scope);
        continue;
      }
      const common = commonDingTalkFailure(err, config.dingtalk.apiBase);
      if (common) return common;
      if (!(err instanceof DingTalkApiError && err.status >= 400 && err.status < 500)) {
        return unexpectedAnswer(err, { zh: 'AI 卡片权限检查失败', en: 'the AI card permission check failed' });
      }
    }
  }
  if (missing.length === 0) return passed();
  return failed(
    { zh: `应用缺少 AI 卡片权限：${missing.join('、')}`, en: `the app lacks the AI card permissions ${missing.join(', ')}` },
    {
      zh: `开发者后台 → 权限管理：开通 ${missing.join('、')} 并重新发布应用；或设置 DINGTALK_REPLY_MODE=markdown`,
      en: `Developer console → Permissions: add ${missing.join(', ')} and publish the app again; or set DINGTALK_REPLY_MODE=markdown`,
    },
  );
}
