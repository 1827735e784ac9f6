import type { AssistantBackend } from '../backends/assistant-backend.js';
import type { Config } from '../config/config.js';
import type { DingTalkHttpClient } from '../dingtalk/dingtalk-http-client.js';
import type { Storage } from '../storage/open-storage.js';
import type { StreamTransport } from '../transports/dingtalk-stream/stream-transport.js';
import { checkBackend } from './backend-check.js';
import { cardRepliesOn } from './card-mode.js';
import { checkCardPermissions, checkCredentials, checkRobotSend } from './dingtalk-checks.js';
import type { LiveCheck, MonitoredCheck } from './readiness-monitor.js';
import { checkStorage } from './storage-check.js';
import { checkStream } from './stream-check.js';

const CHEAP_EVERY_MS = 60_000;
/** Checks that spend a DingTalk API call (5,000 a month on the free edition) or a model request. */
const COSTLY_EVERY_MS = 24 * 60 * 60_000;

export interface ReadinessDeps {
  readonly config: Config;
  readonly storage: Storage;
  readonly api: DingTalkHttpClient;
  readonly backend: AssistantBackend;
  readonly stream: StreamTransport;
}

/** What the running service checks in the background, by the `/healthz` entry each one feeds. */
export function readinessChecks(deps: ReadinessDeps): { checks: MonitoredCheck[]; live: LiveCheck[] } {
  const { config, storage, api, backend, stream } = deps;
  const streamOn = config.chat.streamEnabled;
  const usesDingTalk = streamOn || config.backend.kind === 'dingtalk-assistant';
  const dingtalkMs = config.dingtalk.timeoutMs + 2_000;
  const backendMs = Math.min(config.assistant.answerTimeoutMs, 30_000);
  const checks: MonitoredCheck[] = [
    { name: 'storage', key: 'storage', everyMs: CHEAP_EVERY_MS, timeoutMs: 10_000, run: () => checkStorage(storage, config.sessions.storage) },
  ];
  if (usesDingTalk) {
    checks.push({ name: 'dingtalk-token', key: 'dingtalk', everyMs: CHEAP_EVERY_MS, timeoutMs: dingtalkMs, run: (s) => checkCredentials({ api, config }, s) });
  }
  if (streamOn) {
    checks.push({ name: 'robot-send', key: 'dingtalk', everyMs: COSTLY_EVERY_MS, timeoutMs: dingtalkMs, run: (s) => checkRobotSend({ api, config }, s) });
  }
  if (streamOn && cardRepliesOn(config)) {
    checks.push({ name: 'card-permissions', key: 'dingtalk', everyMs: COSTLY_EVERY_MS, timeoutMs: 2 * dingtalkMs, run: (s) => checkCardPermissions({ api, config }, s) });
  }
  if (backend.check) {
    checks.push({ name: 'backend', key: 'backend', everyMs: COSTLY_EVERY_MS, timeoutMs: backendMs + 1_000, run: (s) => checkBackend(backend, backendMs, s) });
  }
  const live: LiveCheck[] = streamOn ? [{ key: 'stream', read: () => checkStream(stream.status(), config.dingtalk.apiBase) }] : [];
  return { checks, live };
}
