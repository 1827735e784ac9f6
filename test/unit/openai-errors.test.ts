import { describe, expect, it } from 'vitest';
import { classifyOpenAiHttpError, classifyStreamError, isContextOverflow } from '../../src/backends/openai/openai-errors.js';

const body = (error: Record<string, unknown>) => JSON.stringify({ error });

describe('classifyOpenAiHttpError', () => {
  it.each([
    ['DashScope moderation', 400, body({ code: 'data_inspection_failed', message: 'Input data may contain inappropriate content.' }), 'blocked', false, undefined],
    ['Kimi content_filter', 400, body({ type: 'content_filter', message: 'The request was rejected because it was considered high risk' }), 'blocked', false, undefined],
    ['Ark RiskDetection', 400, body({ code: 'OutputTextRiskDetection', message: 'x' }), 'blocked', false, undefined],
    ['Zhipu 1301', 400, body({ code: '1301', message: '不安全或敏感内容' }), 'blocked', false, undefined],
    ['only the message says so', 400, body({ message: 'Output data may contain inappropriate content.' }), 'blocked', false, undefined],
    ['wrong key', 401, body({ code: 'invalid_api_key', message: 'Incorrect API key' }), 'auth', false, 'OPENAI_API_KEY'],
    ['no permission', 403, body({ code: 'PermissionDenied', message: 'x' }), 'auth', false, 'OPENAI_API_KEY'],
    ['Ark arrears', 403, body({ code: 'AccountOverdueError', message: 'x' }), 'quota', false, 'OPENAI_API_KEY'],
    ['402 balance', 402, body({ message: 'Insufficient Balance' }), 'quota', false, 'OPENAI_API_KEY'],
    ['insufficient_quota 429', 429, body({ code: 'insufficient_quota', message: 'You exceeded your current quota' }), 'quota', false, 'OPENAI_API_KEY'],
    ['Zhipu 1113 as 429', 429, body({ code: '1113', message: '余额不足' }), 'quota', false, 'OPENAI_API_KEY'],
    ['DashScope Arrearage', 400, body({ code: 'Arrearage', message: 'Access denied, please make sure your account is in good standing.' }), 'quota', false, 'OPENAI_API_KEY'],
    ['Kimi quota 429', 429, body({ type: 'exceeded_current_quota_error', message: 'Your account is suspended, please check your plan and billing details' }), 'quota', false, 'OPENAI_API_KEY'],
    ['rate limit', 429, body({ code: 'rate_limit_exceeded', message: 'Rate limit reached for requests' }), 'rate_limited', true, undefined],
    ['Zhipu 1302 concurrency', 429, body({ code: '1302', message: '您当前使用该API的并发数过高' }), 'rate_limited', true, undefined],
    ['model_not_found', 404, body({ code: 'model_not_found', message: 'The model `x` does not exist' }), 'config', false, 'OPENAI_MODEL'],
    ['Ark endpoint', 404, body({ code: 'InvalidEndpoint.NotFound', message: 'x' }), 'config', false, 'OPENAI_MODEL'],
    ['Zhipu 1211 as 400', 400, body({ code: '1211', message: '模型不存在' }), 'config', false, 'OPENAI_MODEL'],
    ['HTML 404', 404, '<html>Not Found</html>', 'config', false, 'OPENAI_BASE_URL'],
    ['500', 500, body({ message: 'boom', type: 'server_error' }), 'unavailable', true, undefined],
    ['503 empty', 503, '', 'unavailable', true, undefined],
    ['408', 408, '', 'unavailable', true, undefined],
    ['redirect', 301, '', 'config', false, 'OPENAI_BASE_URL'],
    ['400 other', 400, body({ code: 'invalid_value', message: 'bad temperature' }), 'rejected', false, undefined],
    ['vLLM flat 400', 400, JSON.stringify({ object: 'error', message: 'bad', type: 'BadRequestError', code: 400 }), 'rejected', false, undefined],
  ])('%s', (_name, status, text, kind, retryable, hint) => {
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
    JSON.stringify({ object: 'error', message: 'This model\'s context length is only 4096 tokens', code: 400 }),
  ])('context overflow %s', (text) => {
    const err = classifyOpenAiHttpError(400, undefined, text);
    expect(err.kind).toBe('rejected');
    expect(isContextOverflow(err)).toBe(true);
  });

  it('keeps provider text out of the message', () => {
    const err = classifyOpenAiHttpError(400, undefined, body({ code: 'data_inspection_failed', message: 'secret words 敏感' }));
    expect(err.message).toBe('model call failed (data_inspection_failed)');
    const odd = classifyOpenAiHttpError(500, undefined, body({ code: 'a very long sentence with spaces in it' }));
    expect(odd.message).not.toContain(' sentence ');
  });
});

describe('classifyStreamError', () => {
  it('output moderation is blocked, arrears quota, anything else a retryable failure', () => {
    expect(classifyStreamError({ code: 'data_inspection_failed', message: 'Output data may contain inappropriate content.' }).kind).toBe('blocked');
    expect(classifyStreamError('Output data may contain inappropriate content.').kind).toBe('blocked');
    expect(classifyStreamError({ code: '1113' }).kind).toBe('quota');
    const other = classifyStreamError({ message: 'internal error', type: 'server_error' });
    expect(other.kind).toBe('failed');
    expect(other.retryable).toBe(true);
  });
});
