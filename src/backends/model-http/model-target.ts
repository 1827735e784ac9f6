import { createModelHttpClient, type ModelHttpClient } from './model-http-client.js';
import { DEFAULT_MODEL_TIMEOUTS, type ModelTimeouts } from './model-timeouts.js';

/** Where and how a model backend calls its service: one keep-alive client, the key, the limits. */
export interface ModelTarget {
  readonly client: ModelHttpClient;
  /** The base URL without a trailing slash. */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly firstByteTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

export interface ModelTargetOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly maxSockets: number;
  readonly timeouts?: Partial<ModelTimeouts>;
}

/** The target of a backend's options (its own client; the default limits unless tests shorten them). */
export function createModelTarget(options: ModelTargetOptions): ModelTarget {
  const timeouts = { ...DEFAULT_MODEL_TIMEOUTS, ...options.timeouts };
  return {
    client: createModelHttpClient({ maxSockets: options.maxSockets }),
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    apiKey: options.apiKey,
    firstByteTimeoutMs: timeouts.firstByteMs,
    idleTimeoutMs: timeouts.idleMs,
  };
}
