import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { callbackFrame } from '../../src/demo/simulator/stream-frames.js';
import { SqliteConnection } from '../../src/storage/sqlite/sqlite-connection.js';
import { startFakeDingTalk } from '../fakes/fake-dingtalk.js';
import { sleep } from '../fakes/fake-http-server.js';
import { withoutLabel } from '../helpers/ai-label.js';
import { DINGTALK_ASSISTANT_FIXTURE } from '../helpers/backend-fixtures.js';
import { spawnService, tempStorageUrl, type ServiceProcess } from '../helpers/service-process.js';
import { waitFor } from '../helpers/stream-harness.js';

/**
 * Issue 13 item 9, the frame half, as a whole process (as PM2 runs it): a Stream frame above
 * STREAM_FRAME_MAX_KB is acked from its headers alone and never parsed or stored, so DingTalk
 * stops redelivering it and nothing of it can crash-loop the process; only a frame above the
 * socket's hard cap (16 MiB) closes the connection, which then reconnects.
 */
describe('oversized Stream frames, whole process', () => {
  it('acks a 3 MiB frame unparsed, survives a 17 MiB one by reconnecting, and keeps answering', async () => {
    const fake = await startFakeDingTalk({ gateway: { redeliverUnackedAfterMs: 800, maxRedeliveries: 5 } });
    const model = DINGTALK_ASSISTANT_FIXTURE.install(fake);
    const storage = tempStorageUrl();
    let svc: ServiceProcess | undefined;
    try {
      svc = await spawnService({
        ...model.env,
        DING_APP_KEY: fake.tokens.appKey,
        DING_APP_SECRET: fake.tokens.appSecret,
        DINGTALK_API_BASE: fake.baseUrl,
        DINGTALK_WEBHOOK_ORIGINS: fake.baseUrl,
        SESSION_STORAGE: storage,
        HOST: '127.0.0.1',
        PORT: '0',
        THINKING_NOTICE_SECONDS: '0',
      });
      await waitFor(() => fake.gateway.socketCount === 1, 10_000, 'the Stream connection');

      // 1. Above the limit (1 MiB by default): acked as unusable, not answered, not recorded.
      const big = fake.robot.robotMessage({ conversationId: 'cidBig', msgId: 'msg-big-1', text: '长'.repeat(1024 * 1024) });
      const bigFrame = fake.gateway.push(big, 'frame-big-1');
      await waitFor(() => fake.gateway.isAcked('frame-big-1'), 10_000, 'the ack of the big frame');
      expect(fake.gateway.ackFor(bigFrame)).toMatchObject({ code: 200 });
      fake.gateway.push(fake.robot.robotMessage({ conversationId: 'cidOk', text: 'after the big one' }));
      await waitFor(() => fake.robot.repliesTo('cidOk').length === 1, 10_000, 'the next answer');
      await sleep(1_200); // past a redelivery: an acked frame is not sent again
      expect(fake.gateway.autoRedelivered.has(bigFrame)).toBe(false);

      // 2. Above the socket's hard cap: the connection closes and a new one opens; the process lives.
      fake.gateway.sendRaw(callbackFrame('/v1.0/im/bot/messages/get', 'frame-huge-1', { msgId: 'msg-huge-1', text: { content: 'y'.repeat(17 * 1024 * 1024) } }));
      await waitFor(() => fake.gateway.connections === 2 && fake.gateway.socketCount === 1, 15_000, 'a new connection');
      fake.gateway.push(fake.robot.robotMessage({ conversationId: 'cidOk', text: 'after the huge one' }));
      await waitFor(() => fake.robot.repliesTo('cidOk').length === 2, 10_000, 'an answer on the new connection');

      expect(svc.child.exitCode).toBeNull();
      expect(fake.robot.repliesTo('cidBig')).toHaveLength(0);
      expect(fake.robot.repliesTo('cidOk').map((r) => withoutLabel(r.text))).toEqual(['答：after the big one（之前0轮）', '答：after the huge one（之前1轮）']);
      const logged = svc.stdout.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.message === 'ignoring a stream frame larger than STREAM_FRAME_MAX_KB');
      expect(logged).toEqual([expect.objectContaining({ level: 'warn', messageId: 'frame-big-1', type: 'CALLBACK', acked: true })]);
      expect(Number(logged[0]!.bytes)).toBeGreaterThan(3 * 1024 * 1024);
    } finally {
      await svc?.stop('SIGTERM', 5_000);
      await fake.close();
    }
    // Nothing of the big message was kept: the ledger never saw it.
    const db = await SqliteConnection.open({ file: path.resolve(storage.replace(/^sqlite:\/\//, '')), busyTimeoutMs: 1_000, readOnly: true });
    try {
      const ids = (await db.all<{ id: string }>('read the ledger', 'SELECT id FROM chat_ledger')).map((r) => r.id);
      expect(ids).not.toContain('msg-big-1');
      expect(ids).toHaveLength(2);
    } finally {
      await db.close();
    }
  }, 60_000);
});
