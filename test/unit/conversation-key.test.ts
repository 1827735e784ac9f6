import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { directConversationKey, groupConversationKey, httpConversationKey } from '../../src/engine/conversation-key.js';

describe('conversation keys', () => {
  it('cannot collide when ids contain the separator', () => {
    expect(groupConversationKey('cidA:B', 'C')).not.toBe(groupConversationKey('cidA', 'B:C'));
    expect(groupConversationKey('cidA%3AB', 'C')).not.toBe(groupConversationKey('cidA:B', 'C'));
    expect(groupConversationKey('cidA:B')).not.toBe(groupConversationKey('cidA', 'B'));
  });

  it('maps different (conversation, member) pairs to different keys, whatever the ids', () => {
    const id = fc.string({ unit: fc.constantFrom('a', ':', '%', '3', 'A', '=', '+') , minLength: 0, maxLength: 6 });
    fc.assert(
      fc.property(id, id, id, id, (c1, m1, c2, m2) => {
        if (c1 === c2 && m1 === m2) return;
        expect(groupConversationKey(c1, m1)).not.toBe(groupConversationKey(c2, m2));
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps the namespaces apart and plain ids readable', () => {
    expect(directConversationKey('cid123==')).toBe('dm:cid123==');
    expect(groupConversationKey('cidG', 'stu1')).toBe('group:cidG:stu1');
    expect(httpConversationKey('6F1C2B9E-8D4A-4C1E-9F3A-2B7D5E8C1A00')).toBe('http:6f1c2b9e-8d4a-4c1e-9f3a-2b7d5e8c1a00');
    expect(directConversationKey('x')).not.toBe(groupConversationKey('x'));
  });
});
