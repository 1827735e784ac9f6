import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RoomMessage, WireEvent } from '../../src/demo/chat/chat-room.js';
import { type RunningDemo, startDemo } from '../../src/demo/start-demo.js';
import { captureLogger, type CapturedLogs } from './capture-logs.js';
import { FAST_TUNING } from './stream-harness.js';

export const GROUP = 'cidDEMOgrade10class3xKF5x7Eeiod==';
export const dmOf = (staffId: string) => `cidDEMOdm${staffId.replace(/[^a-z0-9]/gi, '')}==`;

/** The demo in this process on port 0, with a fresh SQLite file and captured logs. */
export async function startTestDemo(env: Record<string, string> = {}, backendStepMs = 5): Promise<{ demo: RunningDemo; logs: CapturedLogs; page: DemoPageClient }> {
  const logs = captureLogger();
  const dir = mkdtempSync(path.join(tmpdir(), 'demo-'));
  const demo = await startDemo({
    env: { DEMO_PORT: '0', DEMO_HOST: '127.0.0.1', PORT: '0', HOST: '127.0.0.1', THINKING_NOTICE_SECONDS: '0', ...env },
    storage: `sqlite://${path.join(dir, 'demo.sqlite')}`,
    logs,
    backendStepMs,
    streamTuning: FAST_TUNING,
  });
  const page = new DemoPageClient(demo.pageUrl);
  await page.waitUntil(() => page.online, 'the bot to connect');
  return { demo, logs, page };
}

/** The chat page's own HTTP API, used the way the page uses it (send; long-poll for changes). */
export class DemoPageClient {
  readonly messages = new Map<string, RoomMessage>();
  readonly wire: WireEvent[] = [];
  online = false;
  private rev = 0;

  constructor(readonly pageUrl: string) {}

  async say(conversationId: string, senderId: string, text: string): Promise<RoomMessage> {
    const res = await fetch(new URL('demo-api/messages', this.pageUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ conversationId, senderId, text }),
    });
    const body = (await res.json()) as { message?: RoomMessage; error?: string };
    if (res.status !== 201) throw new Error(`page API answered ${res.status}: ${body.error}`);
    return body.message!;
  }

  /** Fetches what changed since the last look, without waiting. */
  async refresh(): Promise<void> {
    const res = await fetch(new URL(`demo-api/updates?since=${this.rev}&wait=0`, this.pageUrl));
    const changes = (await res.json()) as { rev: number; online: boolean; messages: RoomMessage[]; wire: WireEvent[] };
    this.rev = changes.rev;
    this.online = changes.online;
    for (const m of changes.messages) this.messages.set(m.id, m);
    this.wire.push(...changes.wire);
  }

  /** Refreshes until `predicate` holds; bounded in time (and so in iterations). */
  async waitUntil(predicate: () => boolean, what: string, timeoutMs = 8_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      await this.refresh();
      if (predicate()) return;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Messages of a conversation in the order the page shows them. */
  in(conversationId: string): RoomMessage[] {
    return [...this.messages.values()].filter((m) => m.conversationId === conversationId).sort((a, b) => a.createdAt - b.createdAt || a.rev - b.rev);
  }

  botReplies(conversationId: string): RoomMessage[] {
    return this.in(conversationId).filter((m) => m.from === 'bot');
  }

  /** Waits for the bot's `count`-th message in a conversation and returns them all. */
  async replies(conversationId: string, count: number, what = `${count} bot message(s)`): Promise<RoomMessage[]> {
    await this.waitUntil(() => this.botReplies(conversationId).length >= count, what);
    return this.botReplies(conversationId);
  }
}
