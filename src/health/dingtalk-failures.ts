import { DingTalkApiError, DingTalkNetworkError } from '../dingtalk/dingtalk-api.js';
import { failed, type Bilingual, type CheckResult } from './check-result.js';

/** What DingTalk's token endpoint answers for a wrong Client ID or Secret (doc 0033). */
export const BAD_CREDENTIALS_CODE = 'invalidClientIdOrSecret';

export const CREDENTIALS_FIX: Bilingual = {
  zh: '在钉钉开发者后台打开该应用的“凭证与基础信息”，把 Client ID 和 Client Secret 分别填入 DING_APP_KEY 和 DING_APP_SECRET',
  en: "Copy the app's Client ID and Client Secret from the DingTalk developer console (Credentials) into DING_APP_KEY and DING_APP_SECRET",
};

export function badCredentials(code: string): CheckResult {
  return failed(
    {
      zh: `钉钉拒绝了应用凭证，请检查 DING_APP_KEY / DING_APP_SECRET（${code}）`,
      en: `DingTalk refused the app credentials: check DING_APP_KEY / DING_APP_SECRET (${code})`,
    },
    CREDENTIALS_FIX,
  );
}

export function unreachable(apiBase: string, detail: string): CheckResult {
  return failed(
    { zh: `无法连接钉钉 ${apiBase}（${detail}）`, en: `DingTalk is unreachable at ${apiBase} (${detail})` },
    {
      zh: '检查本机能否访问钉钉接口（DNS、防火墙、代理）以及 DINGTALK_API_BASE 是否正确',
      en: 'Check that this server can reach the DingTalk API (DNS, firewall, proxy) and that DINGTALK_API_BASE is right',
    },
  );
}

/**
 * The failures every DingTalk check shares: the token (credentials), the network, DingTalk
 * itself; undefined for an answer only the calling check can interpret.
 */
export function commonDingTalkFailure(err: unknown, apiBase: string): CheckResult | undefined {
  if (err instanceof DingTalkNetworkError) {
    const code = (err.cause as { code?: unknown } | undefined)?.code;
    return unreachable(apiBase, err.timedOut ? 'timed out' : typeof code === 'string' ? code : err.message);
  }
  if (!(err instanceof DingTalkApiError)) return undefined;
  if (err.code === BAD_CREDENTIALS_CODE || err.code === 'InvalidAuthentication') return badCredentials(err.code);
  if (err.status >= 500 || /QpsLimit|ApiCountLimit/.test(err.code)) {
    const what = err.code || `HTTP ${err.status}`;
    return failed(
      { zh: `钉钉暂时无法处理请求（${what}）`, en: `DingTalk could not handle the request right now (${what})` },
      {
        zh: '稍后重试；ApiCountLimit 表示本月的接口调用额度已用完',
        en: 'Retry later; ApiCountLimit means the monthly API call quota is used up',
      },
    );
  }
  return undefined;
}

/** A 403 naming a missing permission (scope) of the app's token. */
export function isPermissionDenied(err: unknown): boolean {
  return err instanceof DingTalkApiError && err.status === 403 && /PermissionDenied/i.test(err.code);
}

/** Describes an unexpected answer without guessing (its code is enough to look it up). */
export function unexpectedAnswer(err: unknown, what: Bilingual): CheckResult {
  const code = err instanceof DingTalkApiError ? `HTTP ${err.status} ${err.code}`.trim() : String(err);
  return failed(
    { zh: `${what.zh}：钉钉返回 ${code}`, en: `${what.en}: DingTalk answered ${code}` },
    { zh: '在钉钉开放平台的全局错误码中查找该错误码', en: "Look the code up in DingTalk's global error code list" },
  );
}

/** The Stream gateway refused a registration for a reason other than the credentials. */
export function gatewayRefused(detail: string): CheckResult {
  return failed(
    {
      zh: `Stream 网关拒绝注册（${detail}）：应用可能尚未发布，或机器人不是 Stream 模式`,
      en: `the Stream gateway refused to register (${detail}): the app may be unpublished, or its robot not in Stream mode`,
    },
    {
      zh: '钉钉开发者后台：机器人 → 消息接收模式选“Stream 模式”；版本管理与发布 → 发布应用',
      en: 'In the developer console set the robot\'s message receiving mode to "Stream", then publish the app (版本管理与发布)',
    },
  );
}
