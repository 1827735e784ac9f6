import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

/** The two-instance PM2 recipe keeps everything of the single one, on two ports. */
describe('ecosystem.redis.config.cjs', () => {
  it('runs two forked instances on their own ports and logs, with the single recipe’s safety settings', () => {
    const single = (require('../../ecosystem.config.cjs') as { apps: Array<Record<string, any>> }).apps[0]!;
    const { apps } = require('../../ecosystem.redis.config.cjs') as { apps: Array<Record<string, any>> };
    expect(apps).toHaveLength(2);
    expect(new Set(apps.map((a) => a.name)).size).toBe(2);
    expect(apps.map((a) => a.env.PORT)).toEqual(['5001', '5002']);
    expect(new Set(apps.map((a) => a.out_file)).size).toBe(2);
    for (const app of apps) {
      expect(app).toMatchObject({ exec_mode: 'fork', instances: 1, wait_ready: true, script: single.script, kill_timeout: single.kill_timeout });
      expect(app.node_args).toEqual(single.node_args);
      expect(app.env.NODE_ENV).toBe('production');
    }
  });
});
