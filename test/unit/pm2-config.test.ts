import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { EXIT_CONFIG_ERROR, EXIT_FAILURE } from '../../src/exit-codes.js';

const require = createRequire(import.meta.url);

interface Pm2App {
  readonly name: string;
  readonly instances: number;
  readonly autorestart: boolean;
  readonly stop_exit_codes: readonly number[];
}

describe('PM2 ecosystem file', () => {
  const cjs = require('../../ecosystem.config.cjs') as { apps: Pm2App[] };

  it('stops (instead of restarting in a loop) on the configuration-error exit code only', () => {
    const [app] = cjs.apps;
    expect(app!.autorestart).toBe(true);
    expect(app!.stop_exit_codes).toEqual([EXIT_CONFIG_ERROR]);
    expect(app!.stop_exit_codes).not.toContain(EXIT_FAILURE); // crashes still restart
  });

  it('the .js variant exports the same apps', async () => {
    const url = new URL('../../ecosystem.config.js', import.meta.url).href;
    const esm = (await import(url)) as { apps: Pm2App[] };
    expect(esm.apps).toEqual(cjs.apps);
  });
});
