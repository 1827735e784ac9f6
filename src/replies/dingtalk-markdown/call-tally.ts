import type { DingTalkApiKind } from '../../metrics/bridge-metrics.js';

/**
 * The DingTalk API calls one answer made, by family, for the answer's log line (the monthly
 * quota meter in `BridgeMetrics` counts the same calls process-wide).
 */
export class CallTally {
  private readonly counts: Partial<Record<DingTalkApiKind, number>> = {};

  add(kind: DingTalkApiKind): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }

  get total(): number {
    return Object.values(this.counts).reduce((n, c) => n + c, 0);
  }

  /** `{send: 2}`, `{card_create: 1, card_update: 7}`: what goes into the log line. */
  toJSON(): Partial<Record<DingTalkApiKind, number>> {
    return { ...this.counts };
  }
}
