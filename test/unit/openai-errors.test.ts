import { describe, expect, it } from 'vitest';
import {
  classifyOpenAiHttpError,
  classifyOpenAiStreamError,
  isContextOverflow,
} from '../../src/backends/openai/openai-errors.js';

const body = (error: Record<string, unknown>) => JSON.stringify({ error });

const KEY = 'OPENAI_API_KEY';

/** [name, status, body text, kind, hint]; the retry verdict follows from the kind. */
const cases: Array<[string, number, string, string, string?]> = [
  ['DashScope moderation', 400, body({ code: 'data_inspection_failed', message: 'Input data…' }), 'blocked'],
  ['Kimi content_filter', 400, body({ type: 'content_filter', message: 'considered high risk' }), 'blocked'],
  ['Ark RiskDetection', 400, body({ code: 'OutputTextRiskDetection', message: 'x' }), 'blocked'],
  ['Zhipu 1301', 400, body({ code: '1301', message: '不安全或敏感内容' }), 'blocked'],
  ['only the message', 400, body({ message: 'Output data may contain inappropriate content.' }), 'blocked'],
  ['wrong key', 401, body({ code: 'invalid_api_key', message: 'Incorrect API key' }), 'auth', KEY],
  ['no permission', 403, body({ code: 'PermissionDenied', message: 'x' }), 'auth', KEY],
  ['Ark arrears', 403, body({ code: 'AccountOverdueError', message: 'x' }), 'quota', KEY],
  ['402 balance', 402, body({ message: 'Insufficient Balance' }), 'quota', KEY],
  ['insufficient_quota 429', 429, body({ code: 'insufficient_quota', message: 'exceeded your quota' }), 'quota', KEY],
  ['Zhipu 1113 as 429', 429, body({ code: '1113', message: '余额不足' }), 'quota', KEY],
  ['DashScope Arrearage', 400, body({ code: 'Arrearage', message: 'Access denied.' }), 'quota', KEY],
  ['Kimi quota 429', 429, body({ type: 'exceeded_current_quota_error', message: 'check billing' }), 'quota', KEY],
  ['rate limit', 429, body({ code: 'rate_limit_exceeded', message: 'Rate limit reached' }), 'rate_limited'],
  ['Zhipu 1302 concurrency', 429, body({ code: '1302', message: '并发数过高' }), 'rate_limited'],
  ['model_not_found', 404, body({ code: 'model_not_found', message: 'does not exist' }), 'config', 'OPENAI_MODEL'],
  ['Ark endpoint', 404, body({ code: 'InvalidEndpoint.NotFound', message: 'x' }), 'config', 'OPENAI_MODEL'],
  ['Zhipu 1211 as 400', 400, body({ code: '1211', message: '模型不存在' }), 'config', 'OPENAI_MODEL'],
  ['HTML 404', 404, '<html>Not Found</html>', 'config', 'OPENAI_BASE_URL'],
  ['500', 500, body({ message: 'boom', type: 'server_error' }), 'unavailable'],
  ['503 empty', 503, '', 'unavailable'],
  ['408', 408, '', 'unavailable'],
  ['redirect', 301, '', 'config', 'OPENAI_BASE_URL'],
  ['400 other', 400, body({ code: 'invalid_value', message: 'bad temperature' }), 'rejected'],
  ['vLLM flat 400', 400, JSON.stringify({ object: 'error', message: 'bad', code: 400 }), 'rejected'],
];

describe('classifyOpenAiHttpError', () => {
  it.each(cases)('%s', (_name, status, text, kind, hint) => {
    const retryable = kind === 'rate_limited' || kind === 'unavailable';
    const err = classifyOpenAiHttpError(status, 1_000, text);
    expect(err.kind).toBe(kind);
    expect(err.retryable).toBe(retryable);
    expect(err.hint).toBe(hint);
    expect(err.status).toBe(status);
    expect(err.retryAfterMs).toBe(retryable ? 1_000 : undefined);
  });

  it.each([
    body({ code: 'context_length_exceeded', message: 'x' }),
    body({ message: "This model's maximum context length is 8192 tokens." }),
    JSON.stringify({ object: 'error', message: "This model's context length is only 4096 tokens", code: 400 }),
  ])('context overflow %s', (text) => {
    const err = classifyOpenAiHttpError(400, undefined, text);
    expect(err.kind).toBe('rejected');
    expect(isContextOverflow(err)).toBe(true);
  });

  it('keeps provider text out of the message', () => {
    const text = body({ code: 'data_inspection_failed', message: 'secret words 敏感' });
    const err = classifyOpenAiHttpError(400, undefined, text);
    expect(err.message).toBe('model call failed (data_inspection_failed)');
    const odd = classifyOpenAiHttpError(500, undefined, body({ code: 'a very long sentence with spaces in it' }));
    expect(odd.message).not.toContain(' sentence ');
  });
});

describe('classifyOpenAiStreamError', () => {
  it('output moderation is blocked, arrears quota, anything else a retryable failure', () => {
    const message = 'Output data may contain inappropriate content.';
    expect(classifyOpenAiStreamError({ code: 'data_inspection_failed', message }).kind).toBe('blocked');
    expect(classifyOpenAiStreamError('Output data may contain inappropriate content.').kind).toBe('blocked');
    expect(classifyOpenAiStreamError({ code: '1113' }).kind).toBe('quota');
    const other = classifyOpenAiStreamError({ message: 'internal error', type: 'server_error' });
    expect(other.kind).toBe('failed');
    expect(other.retryable).toBe(true);
  });
});
