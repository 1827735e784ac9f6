import type { StreamStatus } from '../transports/dingtalk-stream/stream-client.js';
import { failed, passed, type CheckResult } from './check-result.js';
import { badCredentials, gatewayRefused, unreachable } from './dingtalk-failures.js';

/** A reconnect shorter than this (DingTalk recycles connections) is not reported as a failure. */
export const STREAM_GRACE_MS = 30_000;

/**
 * The live Stream connection as a check: connected is ok; a failed connection attempt fails at
 * once with its reason (wrong credentials name the variables); a reconnect without a failure
 * yet only fails once it has lasted longer than the grace period.
 */
export function checkStream(status: StreamStatus, apiBase: string, now = Date.now()): CheckResult {
  if (status.state !== 'connecting') return passed(status.state);
  const failure = status.lastFailure;
  if (failure?.kind === 'credentials') return badCredentials('authFailed');
  if (failure?.kind === 'app-not-ready') return gatewayRefused(failure.message);
  if (failure) return unreachable(apiBase, failure.message);
  const down = status.disconnectedSince === undefined ? 0 : now - status.disconnectedSince;
  if (down <= STREAM_GRACE_MS) return passed('connecting');
  const s = Math.round(down / 1000);
  return failed(
    { zh: `Stream 连接已断开 ${s} 秒`, en: `the Stream connection has been down for ${s} s` },
    { zh: '查看日志中的 stream connection attempt failed', en: "Look for 'stream connection attempt failed' in the log" },
  );
}
