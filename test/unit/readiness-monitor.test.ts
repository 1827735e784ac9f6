import { afterEach, describe, expect, it } from 'vitest';
import { failed, passed, skipped, type CheckResult } from '../../src/health/check-result.js';
import { ReadinessMonitor, type MonitoredCheck } from '../../src/health/readiness-monitor.js';
import { SecretRedactor } from '../../src/logger.js';
import { captureLogger } from '../helpers/capture-logs.js';
import { waitFor } from '../helpers/stream-harness.js';

const FIX = { zh: '修', en: 'fix it' };
const monitors: ReadinessMonitor[] = [];
afterEach(() => {
  for (const m of monitors.splice(0)) m.stop();
});

function monitor(checks: MonitoredCheck[], redactor = new SecretRedactor()) {
  const logs = captureLogger(redactor); // as in the app: the log and /healthz share one redactor
  const m = new ReadinessMonitor({ checks, logger: logs.logger, redact: (t) => redactor.redact(t), tuning: { retryBaseMs: 10, retryMaxMs: 20 } });
  monitors.push(m);
  return { m, logs };
}

const check = (name: string, key: MonitoredCheck['key'], run: () => Promise<CheckResult>): MonitoredCheck => ({
  name,
  key,
  everyMs: 60_000,
  timeoutMs: 1_000,
  run,
});

describe('ReadinessMonitor', () => {
  it('before a first result a check counts as failing; a skipped one is left out; the first failing check of an entry shows', async () => {
    let release!: () => void;
    const slow = new Promise<CheckResult>((r) => (release = () => r(passed())));
    const { m } = monitor([
      check('storage', 'storage', () => slow),
      check('dingtalk-token', 'dingtalk', async () => passed()),
      check('robot-send', 'dingtalk', async () => failed({ zh: '无权限', en: 'no permission' }, FIX)),
      check('backend', 'backend', async () => skipped({ zh: '无', en: 'no check' })),
    ]);
    m.start();
    await waitFor(() => m.snapshot().dingtalk?.reason === 'no permission' && m.snapshot().backend === undefined);
    expect(m.snapshot()).toEqual({
      storage: { status: 'failing', reason: 'not checked yet (checking now)' },
      dingtalk: { status: 'failing', reason: 'no permission' },
    });
    release();
    await m.settled(2_000);
    expect(m.snapshot().storage).toEqual({ status: 'ok' });
  });

  it('never shows a secret in a reason, and logs a failure once per new reason, then the recovery once', async () => {
    const redactor = new SecretRedactor();
    redactor.add('Secret-Value-1234');
    const results: CheckResult[] = [
      failed({ zh: '甲', en: 'refused Secret-Value-1234' }, FIX),
      failed({ zh: '甲', en: 'refused Secret-Value-1234' }, FIX),
      failed({ zh: '乙', en: 'unreachable' }, FIX),
      passed(),
    ];
    let runs = 0;
    const { m, logs } = monitor([check('dingtalk-token', 'dingtalk', async () => results[Math.min(runs++, results.length - 1)]!)], redactor);
    m.start();
    await waitFor(() => m.snapshot().dingtalk?.reason === 'refused [REDACTED]', 2_000, 'the first result');
    await waitFor(() => runs >= 4 && m.snapshot().dingtalk?.status === 'ok', 5_000, 'the recovery');
    const messages = logs.records().map((r) => `${String(r.message)}: ${String(r.reason ?? '')}`);
    expect(messages).toEqual([
      'dependency check failing: refused [REDACTED]',
      'dependency check failing: unreachable',
      'dependency check recovered: ',
    ]);
  });
});
