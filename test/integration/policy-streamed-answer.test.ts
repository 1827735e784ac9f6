import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { engineLimits } from '../../src/app.js';
import { ChatHandler } from '../../src/chat/chat-handler.js';
import type { AnswerDraft, ChatMessage, ChatReplier } from '../../src/chat/chat-message.js';
import { CHAT_TEXTS } from '../../src/chat/chat-texts.js';
import { loadConfig } from '../../src/config/config.js';
import { readConfigFileFromDisk } from '../../src/config/policy-env.js';
import { ConversationEngine } from '../../src/engine/conversation-engine.js';
import { QuestionPolicy } from '../../src/policy/question-policy.js';
import { openStorage, type Storage } from '../../src/storage/open-storage.js';
import { withLabel } from '../helpers/ai-label.js';
import { captureLogger } from '../helpers/capture-logs.js';
import { TEST_ENV } from '../helpers/http-harness.js';
import { RecordingBackend } from '../helpers/recording-backend.js';
import { waitFor } from '../helpers/stream-harness.js';

/** A replier that streams (as the AI card does): records every update and the final text. */
class DraftRecorder implements ChatReplier {
  readonly drafts: Array<{ updates: string[]; finished?: { text: string; failed: boolean } }> = [];
  readonly replies: string[] = [];

  async reply(_message: ChatMessage, text: string): Promise<void> {
    this.replies.push(text);
  }

  async startAnswer(): Promise<AnswerDraft> {
    const draft: (typeof this.drafts)[number] = { updates: [] };
    this.drafts.push(draft);
    return {
      update: (textSoFar) => draft.updates.push(textSoFar),
      finish: async (text, options) => {
        draft.finished = { text, failed: options?.failed ?? false };
      },
    };
  }
}

const stores: Storage[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function chat(blocked: string[]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'stream-filter-'));
  writeFileSync(path.join(dir, 'blocked.txt'), blocked.join('\n'));
  const config = loadConfig(
    { ...TEST_ENV, SESSION_STORAGE: `sqlite://${path.join(dir, 's.sqlite')}`, BLOCKED_WORDS_FILE: path.join(dir, 'blocked.txt') },
    { readFile: readConfigFileFromDisk },
  );
  const logs = captureLogger();
  const storage = await openStorage({ url: config.sessions.storage, ledgerTtlMs: 60_000, logger: logs.logger });
  stores.push(storage);
  const backend = new RecordingBackend();
  const engine = new ConversationEngine({ backend, sessions: storage.sessions, logger: logs.logger, pseudonymKey: storage.pseudonymKey, ...engineLimits(config) });
  const policy = new QuestionPolicy({
    config: config.policy,
    stores: storage.policy,
    pseudonymKey: storage.pseudonymKey,
    backendName: backend.name,
    sessionTtlMs: config.sessions.ttlMs,
    logger: logs.logger,
  });
  const replier = new DraftRecorder();
  const handler = new ChatHandler({ ...config.chat, engine, ledger: storage.ledger, replier, policy, logger: logs.logger });
  let seq = 0;
  const ask = async (text: string) => {
    const drafts = replier.drafts.length;
    const message: ChatMessage = {
      id: `msg-${++seq}`,
      conversation: { kind: 'direct', id: 'cid-stream' },
      sender: { id: 'stu1' },
      createdAt: Date.now(),
      content: { kind: 'text', text },
      replyTarget: {},
    };
    await handler.accept(message);
    await waitFor(() => replier.drafts[drafts]?.finished !== undefined, 5_000, 'the draft to finish');
    return replier.drafts[drafts]!;
  };
  return { ask, backend, replier };
}

describe('blocked words on a streamed answer', () => {
  it('never lets a blocked term reach the draft, and finishes it with the refusal', async () => {
    const { ask, backend } = await chat(['禁词丙']);
    backend.chunks = 12;
    backend.answer = () => '第一部分，讲得很好。这里出现了禁词丙，然后还有很多很多后面的内容，一直写下去。';
    const draft = await ask('tell me');
    expect(draft.updates.length).toBeGreaterThan(2); // the clean beginning was shown as it streamed
    expect(draft.updates.every((u) => !u.includes('禁词丙'))).toBe(true);
    expect(draft.finished).toEqual({ text: CHAT_TEXTS.refused, failed: true });
  });

  it('holds back text ending in what may become an English term until the next word shows it is not', async () => {
    const { ask, backend } = await chat(['bad word']);
    backend.chunks = 2;
    backend.answer = () => 'A bad words are fine'; // streamed as "A bad word", then the whole text
    const clean = await ask('q');
    expect(clean.updates).toEqual(['A bad words are fine']); // "A bad word" was held, not shown
    expect(clean.finished).toEqual({ text: withLabel('A bad words are fine'), failed: false });
    backend.answer = () => 'Here is one bad word for you';
    const blocked = await ask('q2');
    expect(blocked.updates.every((u) => !/bad word(?!s)/.test(u))).toBe(true);
    expect(blocked.finished?.failed).toBe(true);
  });

  it('streams a clean answer and puts the AI label inside the finished draft', async () => {
    const { ask, backend, replier } = await chat(['禁词丙']);
    backend.chunks = 5;
    backend.answer = () => '光合作用把光能转化为化学能，产物是葡萄糖和氧气。';
    const draft = await ask('什么是光合作用？');
    expect(draft.updates.at(-1)).toBe('光合作用把光能转化为化学能，产物是葡萄糖和氧气。');
    expect(draft.finished).toEqual({ text: withLabel('光合作用把光能转化为化学能，产物是葡萄糖和氧气。'), failed: false });
    expect(replier.replies).toEqual([]); // the draft carried the answer; nothing sent twice
  });
});
