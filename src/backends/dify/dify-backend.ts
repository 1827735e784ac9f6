// Placeholder until the Dify backend lands (replaced by the real file).
import type { Logger } from '../../logger.js';
import type { AssistantBackend } from '../assistant-backend.js';
export interface DifyBackendOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly maxSockets: number;
  readonly logger: Logger;
}
export function createDifyBackend(_options: DifyBackendOptions): AssistantBackend {
  throw new Error('not yet');
}
