import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StreamClient, type CallbackHandler, type StreamClientOptions } from '../../src/transports/dingtalk-stream/stream-client.js';
import { FakeHttpServer, sleep } from '../fakes/fake-http-server.js';
import { FakeStreamGateway } from '../fakes/fake-stream-gateway.js';
import { captureLogger, type CapturedLogs } from '../helpers/capture-logs.js';
import { waitFor } from '../helpers/stream-harness.js';

let server: FakeHttpServer;
let gateway: FakeStreamGateway;
let logs: CapturedLogs;
const clients: StreamClient[] = [];
const consoleCalls: unknown[][] = [];

beforeEach(async () => {
  server = new FakeHttpServer();
  gateway = new FakeStreamGateway(server);
  await server.listen();
  logs = captureLogger();
  for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void consoleCalls.push(args));
  }
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  await gateway.close();
  await server.close();
  vi.restoreAllMocks();
  // The adapter never writes to the console, whatever happened in the test.
  expect(consoleCalls.splice(0)).toEqual([]);
});

function client(overrides: Partial<StreamClientOptions> = {}, onCallback: CallbackHandler = (_f, ack) => void ack()) {
  const c = new StreamClient({
    apiBase: server.baseUrl,
    clientId: gateway.appKey,
    clientSecret: gateway.appSecret,
    timeoutMs: 2_000,
    logger: logs.logger,
    redactor: logs.redactor,
    onCallback,
    reconnect: { baseMs: 50, maxMs: 400 },
    stableAfterMs: 300,
    ...overrides,
  });
  clients.push(c);
  return c;
}

const robotPayload = { msgId: 'm1', conversationType: '1', conversationId: 'c', senderStaffId: 's', msgtype: 'text', text: { content: 'x' } };

describe('StreamClient (dingtalk-stream adapter)', () => {
  it('registers only the robot CALLBACK topic, with JSON headers, and uses a ticket once', async () => {
    const c = client();
    await c.start();
    expect(c.status().state).toBe('connected');
    expect(gateway.lastOpenBody).toMatchObject({ clientId: gateway.appKey, subscriptions: [{ type: 'CALLBACK', topic: '/v1.0/im/bot/messages/get' }] });
    gateway.dropSocket();
    await waitFor(() => gateway.connections === 2 && c.status().state === 'connected');
    expect(gateway.issuedTickets).toHaveLength(2);
    expect(gateway.rejectedTickets).toBe(0);
    expect(c.status().reconnects).toBe(1);
  });

  it('keeps retrying with backoff, single-flight, when the gateway refuses', async () => {
    gateway.refuseConnections(4);
    const c = client();
    await c.start();
    expect(c.status().state).toBe('connecting');
    await waitFor(() => c.status().state === 'connected');
    expect(server.count('POST', '/v1.0/gateway/connections/open')).toBe(5); // no storm: one attempt at a time
    expect(gateway.connections).toBe(1);
  });

  it('reports bad credentials with a hint and never logs the secret or a ticket', async () => {
    const bad = client({ clientSecret: 'wrong-secret-value-123' });
    await bad.start();
    await sleep(300);
    expect(bad.status().state).toBe('connecting');
    expect(logs.lines.some((l) => l.includes('authFailed') && l.includes('DING_APP_SECRET'))).toBe(true);
    await bad.stop();
    const attempts = server.count('POST', '/v1.0/gateway/connections/open');
    await sleep(500);
    expect(server.count('POST', '/v1.0/gateway/connections/open')).toBe(attempts); // stop cancelled the retry

    const good = client();
    await good.start();
    gateway.sendDisconnect();
    await waitFor(() => gateway.connections === 2);
    const all = logs.lines.join('\n');
    for (const secret of ['wrong-secret-value-123', gateway.appSecret, ...gateway.issuedTickets]) {
      expect(all).not.toContain(secret);
    }
  });

  it('replaces a socket whose pongs stop, and one that receives no frames at all', async () => {
    const c = client({ liveness: { pingIntervalMs: 100, pongTimeoutMs: 150, idleTimeoutMs: 60_000 } });
    await c.start();
    gateway.stopPonging();
    await waitFor(() => gateway.connections >= 2, 10_000, 'pong timeout reconnect');
    gateway.resumePonging();
    await waitFor(() => c.status().state === 'connected');

    const idle = client({ liveness: { pingIntervalMs: 100, pongTimeoutMs: 1_000, idleTimeoutMs: 400 } });
    const before = gateway.connections;
    await idle.start();
    await waitFor(() => gateway.connections >= before + 2, 10_000, 'idle reconnect');
    expect(logs.lines.some((l) => l.includes('no frames received'))).toBe(true);
  });

  it('survives throwing and rejecting handlers and acks on the socket the frame came from', async () => {
    let n = 0;
    const c = client({}, (_frame, ack) => {
      n++;
      ack();
      if (n === 1) throw new Error('sync boom');
      if (n === 2) return Promise.reject(new Error('async boom'));
      return undefined;
    });
    await c.start();
    const ids = [gateway.push(robotPayload), gateway.push(robotPayload), gateway.push(robotPayload)];
    await waitFor(() => ids.every((id) => gateway.ackFor(id)));
    expect(n).toBe(3);
    expect(logs.lines.filter((l) => l.includes('boom'))).toHaveLength(2);
    expect(c.status().lastFrameAt).toBeTypeOf('number');
  });

  it('stop closes the socket and stops every timer', async () => {
    const c = client({ liveness: { pingIntervalMs: 50, pongTimeoutMs: 50, idleTimeoutMs: 200 } });
    await c.start();
    await c.stop();
    expect(c.status().state).toBe('stopped');
    await waitFor(() => gateway.socketCount === 0);
    await sleep(400);
    expect(gateway.connections).toBe(1);
  });
});
