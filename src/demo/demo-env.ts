import { z } from 'zod';
import { intIn } from '../config/env-fields.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Variables only `npm run demo` reads (not service config): where the simulated DingTalk and its
 * chat page listen. Loopback by default: the page has no login.
 */
const DEMO_SCHEMA = z.object({
  DEMO_PORT: intIn(0, 65535, 5050),
  DEMO_HOST: z.string().trim().min(1).default('127.0.0.1'),
});

export interface DemoSettings {
  readonly port: number;
  readonly host: string;
}

/** The demo could not start because of its own variables; names every problem. */
export class DemoConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid demo configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'DemoConfigError';
  }
}

export function loadDemoSettings(env: Env): DemoSettings {
  const cleaned = Object.fromEntries(Object.keys(DEMO_SCHEMA.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = DEMO_SCHEMA.safeParse(cleaned);
  if (!parsed.success) throw new DemoConfigError(parsed.error.issues.map((i) => `${String(i.path[0])} ${i.message}`));
  return { port: parsed.data.DEMO_PORT, host: parsed.data.DEMO_HOST };
}

/** Which model answers in the demo: the configured one, or the built-in demo backend (and why). */
export type DemoModel = { readonly kind: 'configured' } | { readonly kind: 'demo'; readonly reason: string };

const MODEL_VARIABLES: Record<string, readonly string[]> = {
  openai: ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_MODEL'],
  dify: ['DIFY_BASE_URL', 'DIFY_API_KEY'],
};

/**
 * The configured backend when the user started configuring one (a half-done configuration is then
 * reported by loadConfig, naming what is missing); the demo backend when none is configured, or
 * for the DingTalk assistant, which needs the real DingTalk.
 */
export function demoModelOf(env: Env): DemoModel {
  const backend = (env.ASSISTANT_BACKEND ?? '').trim().toLowerCase() || 'openai';
  if (backend === 'dingtalk-assistant') {
    return { kind: 'demo', reason: 'ASSISTANT_BACKEND=dingtalk-assistant needs the real DingTalk' };
  }
  const names = MODEL_VARIABLES[backend];
  if (names && names.every((name) => !env[name]?.trim())) {
    return { kind: 'demo', reason: `no model configured (${names.join(', ')} are empty)` };
  }
  return { kind: 'configured' };
}

export interface DemoServiceInputs {
  /** The simulator's base URL (DINGTALK_API_BASE for the service). */
  readonly dingtalkBase: string;
  readonly appKey: string;
  readonly appSecret: string;
  /** SESSION_STORAGE of the demo (never the production file). */
  readonly storage: string;
  /** Where the HTTP API listens unless HOST is set. */
  readonly host: string;
  readonly model: DemoModel;
}

/**
 * The environment the real service is configured from in the demo: the user's (model, limits,
 * reply mode...) with the DingTalk side pointed at the simulator, its made-up credentials, the
 * demo's own storage and no allow-lists (the simulated people are not on the school's lists).
 */
export function demoServiceEnv(env: Env, inputs: DemoServiceInputs): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {
    ...env,
    DING_APP_KEY: inputs.appKey,
    DING_APP_SECRET: inputs.appSecret,
    DINGTALK_API_BASE: inputs.dingtalkBase,
    // The simulator's sessionWebhooks live on its own origin.
    DINGTALK_WEBHOOK_ORIGINS: new URL(inputs.dingtalkBase).origin,
    STREAM_ENABLED: 'true',
    SESSION_STORAGE: inputs.storage,
    ALLOWED_GROUPS: undefined,
    ALLOWED_USERS: undefined,
    HOST: env.HOST || inputs.host,
    PORT: env.PORT || '5000',
    // Long demo answers take about 3 s: long enough to show the notice, normal ones are quicker.
    THINKING_NOTICE_SECONDS: env.THINKING_NOTICE_SECONDS || '2',
  };
  if (inputs.model.kind === 'demo') {
    // The demo backend is handed to buildApp directly; these only satisfy the config rules.
    Object.assign(out, {
      ASSISTANT_BACKEND: 'openai',
      OPENAI_BASE_URL: `${inputs.dingtalkBase}/no-model-configured`,
      OPENAI_API_KEY: 'demo-no-model',
      OPENAI_MODEL: 'demo',
    });
  }
  // Card mode needs a template id; the simulator shows any template the same way.
  if ((env.DINGTALK_REPLY_MODE ?? '').trim().toLowerCase() === 'card' && !env.DINGTALK_CARD_TEMPLATE_ID) {
    out.DINGTALK_CARD_TEMPLATE_ID = 'demo-ai-card-template.schema';
  }
  return out;
}
