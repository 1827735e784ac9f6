/** A sentence in both languages of the school: Chinese first, then English. */
export interface Bilingual {
  readonly zh: string;
  readonly en: string;
}

export type CheckStatus = 'ok' | 'failing' | 'skipped';

/**
 * The outcome of one dependency check, for `npm run doctor` (printed) and `/healthz` (the
 * English reason). Reasons name the variable to check when a setting is at fault; nothing in
 * a result ever holds a secret.
 */
export interface CheckResult {
  readonly status: CheckStatus;
  /** What was checked (a URL, a backend name); shown next to ✓. */
  readonly detail?: string;
  readonly reason?: Bilingual;
  /** What the operator should do; present on every failure. */
  readonly fix?: Bilingual;
}

export const passed = (detail?: string): CheckResult => ({ status: 'ok', detail });

export const failed = (reason: Bilingual, fix: Bilingual): CheckResult => ({ status: 'failing', reason, fix });

export const skipped = (reason: Bilingual): CheckResult => ({ status: 'skipped', reason });

/**
 * Runs one check with a hard time limit, so a check that hangs (a socket that never answers)
 * reports itself instead of stalling the doctor or the health monitor. A check that throws is
 * reported with its message (checks catch what they can name themselves).
 */
export async function runCheck(
  run: (signal: AbortSignal) => Promise<CheckResult>,
  timeoutMs: number,
  stop?: AbortSignal,
): Promise<CheckResult> {
  const controller = new AbortController();
  const onStop = () => controller.abort();
  stop?.addEventListener('abort', onStop, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      const s = Math.round(timeoutMs / 1000);
      resolve(
        failed(
          { zh: `${s} 秒内没有结果`, en: `no result within ${s} s` },
          { zh: '检查本机到该服务的网络（DNS、防火墙、代理）', en: 'check the network from this server to the service (DNS, firewall, proxy)' },
        ),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([
      run(controller.signal).catch((err: unknown) =>
        failed(
          { zh: `检查出错：${String(err)}`, en: `the check failed: ${String(err)}` },
          { zh: '查看日志中的详细信息', en: 'see the log for details' },
        ),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
    stop?.removeEventListener('abort', onStop);
  }
}
