// Placeholder until the OpenAI-compatible backend lands (replaced by the real file).
import type { Logger } from '../../logger.js';
import type { AssistantBackend } from '../assistant-backend.js';
export interface OpenAiBackendOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly model: string;
  readonly systemPrompt: string;
  readonly extraBody: Readonly<Record<string, unknown>>;
  readonly historyMaxTurns: number;
  readonly historyMaxChars: number;
  readonly maxSockets: number;
  readonly logger: Logger;
}
export function createOpenAiBackend(_options: OpenAiBackendOptions): AssistantBackend {
  throw new Error('not yet');
}
