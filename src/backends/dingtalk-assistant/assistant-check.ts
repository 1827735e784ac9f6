import type { CallOptions } from '../assistant-backend.js';
import { AssistantError } from '../../errors.js';
import { DingTalkApiError, type DingTalkApi } from '../../dingtalk/dingtalk-api.js';
import { classifyDingTalkError } from './retry-policy.js';
import { runsPath, threadPath, threadsPath, type WireThread } from './wire-types.js';

export interface AssistantCheckDeps {
  readonly api: DingTalkApi;
  /** AI_ASSISTANT_ID. */
  readonly assistantId: string;
  /** DINGTALK_TIMEOUT_SECONDS. */
  readonly callTimeoutMs: number;
}

/** The id format of the reference (§1: "assistantId is bare 32-hex"). */
const ASSISTANT_ID = /^[0-9a-f]{32}$/i;

/**
 * Confirms that AI_ASSISTANT_ID names an assistant this app may run, without asking it
 * anything: a run on an empty thread is refused with `message.not.user` when the assistant
 * exists and `run.assistantparam.error` when it does not (reference §2.3, §4); the thread is
 * deleted again. That the assistant id is checked before the message is the fake's reading
 * of the docs' error tables, not a documented order. Three calls; no model run starts.
 */
export async function checkAssistantId(deps: AssistantCheckDeps, options: CallOptions): Promise<void> {
  if (!ASSISTANT_ID.test(deps.assistantId)) {
    throw new AssistantError('config', 'AI_ASSISTANT_ID is not 32 hexadecimal characters', { hint: 'AI_ASSISTANT_ID' });
  }
  const call = <T>(method: 'POST' | 'DELETE', path: string, body?: unknown) =>
    deps.api.request<T>({
      method,
      path,
      body,
      signal: options.signal,
      timeoutMs: Math.max(1, Math.min(deps.callTimeoutMs, options.deadline - Date.now())),
    });
  let threadId: string | undefined;
  try {
    threadId = (await call<WireThread>('POST', threadsPath, {}))?.id;
    if (!threadId) throw new AssistantError('unavailable', 'create thread answered without an id');
    await call('POST', runsPath(threadId), { assistantId: deps.assistantId, stream: false });
  } catch (err) {
    const code = err instanceof DingTalkApiError ? err.code : undefined;
    if (code === 'message.not.user' || code === 'run.lastmessage.invalid') return; // the assistant exists
    throw checkFailure(err, code);
  } finally {
    if (threadId) await call('DELETE', threadPath(threadId)).catch(() => undefined);
  }
}

function checkFailure(err: unknown, code: string | undefined): AssistantError {
  if (err instanceof AssistantError) return err;
  const verdict = classifyDingTalkError(err);
  const extra = { upstreamCode: verdict.code, status: verdict.status, cause: err };
  if (code === 'run.assistantparam.error' || code === 'assistant.not.exist') {
    return new AssistantError('config', `DingTalk knows no assistant with this id (${code})`, { ...extra, hint: 'AI_ASSISTANT_ID' });
  }
  if (code === 'invalidClientIdOrSecret') {
    return new AssistantError('auth', `DingTalk refused the app credentials (${code})`, { ...extra, hint: 'DING_APP_KEY / DING_APP_SECRET' });
  }
  if (verdict.kind === 'auth') {
    const hint = 'DING_APP_KEY (the app must hold AI.Assistant.Run and own the assistant)';
    return new AssistantError('auth', `DingTalk refused the assistant call (${code || `HTTP ${verdict.status}`})`, { ...extra, hint });
  }
  const what = code || (verdict.status ? `HTTP ${verdict.status}` : err instanceof Error ? err.message : 'network');
  return new AssistantError(verdict.kind === 'timeout' ? 'timeout' : 'unavailable', `assistant check failed (${what})`, extra);
}
