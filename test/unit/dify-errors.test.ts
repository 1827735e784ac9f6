import { describe, expect, it } from 'vitest';
import {
  classifyDifyHttpError,
  classifyDifyStreamError,
  isConversationMissing,
} from '../../src/backends/dify/dify-errors.js';
import { answeredState, readDifyState, withoutConversation } from '../../src/backends/dify/dify-state.js';

const body = (status: number, code: string, message = 'x') => JSON.stringify({ code, message, status });

describe('classifyDifyHttpError', () => {
  it.each([
    [404, body(404, 'not_found', 'Conversation Not Exists.'), 'conversation_missing', false, undefined],
    [401, body(401, 'unauthorized'), 'auth', false, 'DIFY_API_KEY'],
    [403, body(403, 'forbidden'), 'auth', false, 'DIFY_API_KEY'],
    [400, body(400, 'app_unavailable'), 'config', false, 'DIFY_API_KEY'],
    [400, body(400, 'not_chat_app'), 'config', false, 'DIFY_API_KEY'],
    [400, body(400, 'provider_not_initialize'), 'quota', false, 'DIFY_API_KEY'],
    [400, body(400, 'provider_quota_exceeded'), 'quota', false, 'DIFY_API_KEY'],
    [400, body(400, 'completion_request_error', '[openai] Error: Connection error'), 'failed', false, undefined],
    [400, body(400, 'completion_request_error', 'data_inspection_failed: Input data...'), 'blocked', false, undefined],
    [400, body(400, 'invalid_param'), 'rejected', false, undefined],
    [400, body(400, 'conversation_completed'), 'rejected', false, undefined],
    [404, '<html>404</html>', 'config', false, 'DIFY_BASE_URL'],
    [404, body(404, 'not_found', 'App not found'), 'config', false, 'DIFY_BASE_URL'],
    [429, body(429, 'too_many_requests'), 'rate_limited', true, undefined],
    [500, '', 'unavailable', true, undefined],
    [502, '<html>Bad Gateway</html>', 'unavailable', true, undefined],
  ])('%s %s → %s', (status, text, kind, retryable, hint) => {
    const err = classifyDifyHttpError(status, 2_000, text);
    expect(err.kind).toBe(kind);
    expect(err.retryable).toBe(retryable);
    expect(err.hint).toBe(hint);
    expect(err.retryAfterMs).toBe(retryable ? 2_000 : undefined);
    expect(isConversationMissing(err)).toBe(kind === 'conversation_missing');
  });
});

describe('classifyDifyStreamError', () => {
  it.each([
    ['provider_quota_exceeded', 'quota'],
    ['provider_not_initialize', 'quota'],
    ['app_unavailable', 'config'],
    ['not_chat_app', 'config'],
    ['content_filter', 'blocked'],
    ['completion_request_error', 'failed'],
    ['something_new', 'failed'],
  ])('%s → %s, never retried', (code, kind) => {
    const err = classifyDifyStreamError({ event: 'error', status: 400, code, message: 'upstream words' });
    expect(err.kind).toBe(kind);
    expect(err.retryable).toBe(false);
    expect(err.message).not.toContain('upstream words');
  });

  it('a moderation message under a generic code is blocked', () => {
    const message = 'Output data may contain inappropriate content.';
    const err = classifyDifyStreamError({ code: 'completion_request_error', message });
    expect(err.kind).toBe('blocked');
  });
});

describe('Dify state', () => {
  it('reads only its own string fields', () => {
    expect(readDifyState(undefined)).toEqual({});
    expect(readDifyState({ v: 1, turns: [] })).toEqual({});
    expect(readDifyState({ conversationId: 'c', lastRequestId: 'r', lastAnswer: 'a', x: 1 })).toEqual({
      conversationId: 'c',
      lastRequestId: 'r',
      lastAnswer: 'a',
    });
    expect(readDifyState({ conversationId: '', lastAnswer: 3 })).toEqual({});
  });

  it('records the answer only for a question with an id', () => {
    expect(answeredState('c', 'r', 'a')).toEqual({ conversationId: 'c', lastRequestId: 'r', lastAnswer: 'a' });
    expect(answeredState('c', undefined, 'a')).toEqual({ conversationId: 'c' });
    expect(withoutConversation({ conversationId: 'c', lastRequestId: 'r' })).toEqual({ lastRequestId: 'r' });
  });
});
