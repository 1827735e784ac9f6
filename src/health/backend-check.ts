import type { AssistantBackend } from '../backends/assistant-backend.js';
import { AssistantError } from '../errors.js';
import { failed, passed, skipped, type Bilingual, type CheckResult } from './check-result.js';

/**
 * The model backend can answer: its own cheap `check` (the assistant exists for
 * dingtalk-assistant; a one-word request for openai; the Dify app answers for dify). A backend
 * without `check` is reported as not checkable rather than as passing.
 */
export async function checkBackend(backend: AssistantBackend, timeoutMs: number, signal: AbortSignal): Promise<CheckResult> {
  if (!backend.check) {
    return skipped({ zh: `后端 ${backend.name} 不支持自检`, en: `the ${backend.name} backend has no check` });
  }
  try {
    await backend.check({ deadline: Date.now() + timeoutMs, signal, logContext: { check: 'backend' } });
    return passed(backend.name);
  } catch (err) {
    return describeBackendFailure(backend.name, err);
  }
}

const KIND_TEXT: Partial<Record<string, Bilingual>> = {
  auth: { zh: '模型服务拒绝了凭证或权限', en: 'the model service refused the credentials or permission' },
  config: { zh: '配置的模型、应用或助理不存在', en: 'the configured model, app or assistant does not exist' },
  quota: { zh: '模型服务的余额或额度不足', en: 'the model service account is out of balance or quota' },
  timeout: { zh: '模型服务没有及时回答', en: 'the model service did not answer in time' },
  rate_limited: { zh: '模型服务限流', en: 'the model service is throttling requests' },
  unavailable: { zh: '模型服务不可达或出错', en: 'the model service is unreachable or failing' },
};

export function describeBackendFailure(name: string, err: unknown): CheckResult {
  if (!(err instanceof AssistantError)) {
    return failed(
      { zh: `后端 ${name} 出错：${String(err)}`, en: `the ${name} backend failed: ${String(err)}` },
      { zh: '查看日志中的详细信息', en: 'see the log for details' },
    );
  }
  const text = KIND_TEXT[err.kind] ?? { zh: '模型服务未能回答', en: 'the model service could not answer' };
  const check = err.hint ? { zh: `；请检查 ${err.hint}`, en: `; check ${err.hint}` } : { zh: '', en: '' };
  return failed(
    { zh: `${name}：${text.zh}（${err.message}）${check.zh}`, en: `${name}: ${text.en} (${err.message})${check.en}` },
    err.hint
      ? { zh: `核对 ${err.hint} 的值（.env），然后再运行 npm run doctor`, en: `Correct ${err.hint} in .env, then run npm run doctor again` }
      : { zh: '检查模型服务是否可用，稍后重试', en: 'Check that the model service is up, and retry later' },
  );
}
