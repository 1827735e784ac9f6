import type { Logger } from '../logger.js';
import { runCheck, type CheckResult } from './check-result.js';

/** The entries of `/healthz` `checks`; one that does not apply to this setup is left out. */
export type HealthKey = 'storage' | 'dingtalk' | 'stream' | 'backend';

export interface HealthCheck {
  readonly status: 'ok' | 'failing';
  /** English, naming the variable to check when a setting is at fault; never a secret. */
  readonly reason?: string;
}

export type HealthChecks = Partial<Record<HealthKey, HealthCheck>>;

/** A check the monitor repeats in the background. */
export interface MonitoredCheck {
  /** Its name in the log (`dingtalk-token`, `robot-send`, …). */
  readonly name: string;
  /** The `/healthz` entry it feeds; several checks may feed one (the first failing one shows). */
  readonly key: HealthKey;
  readonly timeoutMs: number;
  /**
   * How long a passing result stands: cheap checks are repeated every minute, those that cost
   * a DingTalk API call (a monthly quota) or a model request once a day.
   */
  readonly everyMs: number;
  run(signal: AbortSignal): Promise<CheckResult>;
}

/** A check read at the moment `/healthz` asks (the Stream connection's own state). */
export interface LiveCheck {
  readonly key: HealthKey;
  read(): CheckResult;
}

export interface MonitorTuning {
  /** A failing check is retried after this, then twice as long each time… */
  readonly retryBaseMs: number;
  /** …up to this, so a fix shows within minutes without spending the API quota on retries. */
  readonly retryMaxMs: number;
}

export const DEFAULT_MONITOR_TUNING: MonitorTuning = { retryBaseMs: 30_000, retryMaxMs: 30 * 60_000 };

interface Entry {
  result: CheckResult;
  failures: number;
}

/**
 * Runs the dependency checks in the background from start-up on (so wrong credentials show in
 * the log and in `/healthz` within seconds, not with the first student's question), repeats
 * them, and logs every change: a failing check once per new reason, a recovery once.
 */
export class ReadinessMonitor {
  private readonly entries = new Map<string, Entry>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly stopping = new AbortController();
  private readonly tuning: MonitorTuning;

  constructor(
    private readonly options: {
      readonly checks: readonly MonitoredCheck[];
      readonly live?: readonly LiveCheck[];
      readonly logger: Logger;
      /** Scrubs secrets from the reasons `/healthz` shows (the log has its own redactor). */
      readonly redact?: (text: string) => string;
      readonly tuning?: Partial<MonitorTuning>;
    },
  ) {
    this.tuning = { ...DEFAULT_MONITOR_TUNING, ...options.tuning };
  }

  /** Starts every check now (in the background) and keeps repeating them until `stop`. */
  start(): void {
    for (const check of this.options.checks) void this.runAndSchedule(check);
  }

  stop(): void {
    this.stopping.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** The `/healthz` entries: a check not finished yet counts as failing ("not checked yet"). */
  snapshot(): HealthChecks {
    const out: HealthChecks = {};
    const add = (key: HealthKey, result: CheckResult | undefined) => {
      if (result?.status === 'skipped') return;
      if (out[key]?.status === 'failing') return;
      out[key] = !result
        ? { status: 'failing', reason: 'not checked yet (checking now)' }
        : result.status === 'ok'
          ? { status: 'ok' }
          : { status: 'failing', reason: this.redact(result.reason?.en) };
    };
    for (const check of this.options.checks) add(check.key, this.entries.get(check.name)?.result);
    for (const live of this.options.live ?? []) add(live.key, live.read());
    return out;
  }

  private redact(text: string | undefined): string | undefined {
    return text === undefined || !this.options.redact ? text : this.options.redact(text);
  }

  /** Resolves when every check has a first result (tests). */
  async settled(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.options.checks.some((c) => !this.entries.has(c.name)) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async runAndSchedule(check: MonitoredCheck): Promise<void> {
    if (this.stopping.signal.aborted) return;
    const result = await runCheck(check.run, check.timeoutMs, this.stopping.signal);
    if (this.stopping.signal.aborted) return;
    const previous = this.entries.get(check.name);
    const failures = result.status === 'failing' ? (previous?.failures ?? 0) + 1 : 0;
    this.entries.set(check.name, { result, failures });
    this.report(check.name, previous?.result, result);
    const delay =
      result.status === 'failing'
        ? Math.min(this.tuning.retryBaseMs * 2 ** (failures - 1), this.tuning.retryMaxMs)
        : check.everyMs;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.runAndSchedule(check);
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  private report(name: string, before: CheckResult | undefined, now: CheckResult): void {
    const { logger } = this.options;
    if (now.status === 'failing') {
      if (before?.status === 'failing' && before.reason?.en === now.reason?.en) return;
      logger.error('dependency check failing', { check: name, reason: now.reason?.en, fix: now.fix?.en });
    } else if (before?.status === 'failing') {
      logger.info('dependency check recovered', { check: name });
    } else if (!before) {
      logger.info(now.status === 'ok' ? 'dependency check passed' : 'dependency check skipped', {
        check: name,
        reason: now.reason?.en,
      });
    }
  }
}
