import { expect } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

/** The problems `loadConfig` lists for `env`, one per line; fails the test if it accepts it. */
export function configProblems(env: Record<string, string>, ...rest: Parameters<typeof loadConfig> extends [unknown, ...infer R] ? R : never): string {
  try {
    loadConfig(env, ...rest);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.join('\n');
  }
  throw new Error('loadConfig accepted the env');
}
