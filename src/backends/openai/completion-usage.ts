import type { TokenUsage } from '../assistant-backend.js';
import { asJsonObject } from '../model-http/json-object.js';

/** The token counts of a completion's `usage` object (streamed or whole), when it has any. */
export function readUsage(value: unknown): TokenUsage | undefined {
  const u = asJsonObject(value);
  if (!u) return undefined;
  const promptTokens = typeof u.prompt_tokens === 'number' ? u.prompt_tokens : undefined;
  const completionTokens = typeof u.completion_tokens === 'number' ? u.completion_tokens : undefined;
  return promptTokens === undefined && completionTokens === undefined ? undefined : { promptTokens, completionTokens };
}
