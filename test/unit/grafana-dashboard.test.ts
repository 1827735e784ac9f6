import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BridgeMetrics } from '../../src/metrics/bridge-metrics.js';
import { metricNames } from '../helpers/prometheus-text.js';

/** The Grafana dashboard in deploy/ graphs every bridge metric, and only metrics that exist. */
describe('deploy/grafana-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana-dashboard.json', import.meta.url), 'utf8')) as {
    panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
    templating: { list: Array<{ name: string }> };
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('graphs every bridge_* metric of the registry', async () => {
    const names = metricNames(await new BridgeMetrics().registry.metrics());
    const bridge = [...names].filter((n) => n.startsWith('bridge_'));
    expect(bridge.length).toBeGreaterThanOrEqual(8);
    for (const name of bridge) expect(exprs.some((e) => new RegExp(`\\b${name}(_bucket|_sum|_count)?\\b`).test(e)), name).toBe(true);
  });

  it('refers to no metric the service does not export', async () => {
    const names = metricNames(await new BridgeMetrics().registry.metrics());
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:bridge|process|nodejs)_[a-z_]+)\b/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''))));
    expect(used.size).toBeGreaterThan(8);
    for (const name of used) expect(names, name).toContain(name);
  });

  it('lets the operator pick instances, and every panel has a title', () => {
    expect(dashboard.templating.list.map((v) => v.name)).toContain('instance');
    for (const p of dashboard.panels) expect(p.title.length).toBeGreaterThan(0);
  });
});
