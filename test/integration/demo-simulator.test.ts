import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningDemo } from '../../src/demo/start-demo.js';
import { type DemoPageClient, dmOf, GROUP, startTestDemo } from '../helpers/demo-page-client.js';

/**
 * The simulator's DingTalk endpoints on the wire, as the documentation describes them: what the
 * card replier (another engineer's work) will call, and the gateway's credential and ticket rules.
 */
let demo: RunningDemo;
let page: DemoPageClient;
let base: string;
let token: string;

beforeAll(async () => {
  ({ demo, page } = await startTestDemo());
  base = demo.pageUrl.replace(/\/$/, '');
  const res = await call('POST', '/v1.0/oauth2/accessToken', demo.simulator.credentials, false);
  token = res.body.accessToken;
});
afterAll(() => demo.stop());

async function call(method: string, path: string, body: unknown, withToken = true): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(withToken ? { 'x-acs-dingtalk-access-token': token } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const createCard = (outTrackId: string, space: string, extra: Record<string, unknown> = {}) =>
  call('POST', '/v1.0/card/instances/createAndDeliver', {
    cardTemplateId: 'demo.schema',
    outTrackId,
    callbackType: 'STREAM',
    cardData: { cardParamMap: { content: ' ', flowStatus: '1' } },
    openSpaceId: space,
    imGroupOpenDeliverModel: { robotCode: demo.simulator.credentials.appKey },
    imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT' },
    userIdType: 1,
    ...extra,
  });
const stream = (outTrackId: string, content: string, flags: Record<string, boolean> = {}) =>
  call('PUT', '/v1.0/card/streaming', { outTrackId, guid: randomUUID(), key: 'content', content, isFull: true, ...flags });

describe('the simulated DingTalk AI-card endpoints', () => {
  it('a group card shows thinking, fills in with each streamed text, and ends finished', async () => {
    const id = `card_${randomUUID()}`;
    const created = await createCard(id, `dtv1.card//IM_GROUP.${GROUP}`);
    expect(created.status).toBe(200);
    expect(created.body.result.deliverResults).toEqual([expect.objectContaining({ spaceType: 'IM_GROUP', spaceId: GROUP, success: true })]);
    await page.waitUntil(() => page.messages.get(`card-${id}`)?.card?.status === 'processing', 'the thinking card');
    expect(page.messages.get(`card-${id}`)).toMatchObject({ conversationId: GROUP, kind: 'card', via: 'card', text: '' });

    expect((await stream(id, '光合作用是')).body).toEqual({ success: true, result: true });
    await page.waitUntil(() => page.messages.get(`card-${id}`)?.text === '光合作用是', 'the first update');
    expect(page.messages.get(`card-${id}`)!.card).toEqual({ status: 'inputing', updates: 1 });

    await stream(id, '光合作用是植物利用光能制造有机物的过程。', { isFinalize: true });
    await page.waitUntil(() => page.messages.get(`card-${id}`)?.card?.status === 'finished', 'the finished card');
    expect(page.messages.get(`card-${id}`)).toMatchObject({ text: '光合作用是植物利用光能制造有机物的过程。', card: { updates: 2 } });
  });

  it('a direct-chat card can fail (isError), and flowStatus updates merge by key', async () => {
    const failing = `card_${randomUUID()}`;
    await createCard(failing, 'dtv1.card//IM_ROBOT.stu-liming');
    await stream(failing, '抱歉，这次没能得到回答。', { isError: true });
    await page.waitUntil(() => page.messages.get(`card-${failing}`)?.card?.status === 'failed', 'the failed card');
    expect(page.messages.get(`card-${failing}`)!.conversationId).toBe(dmOf('stu-liming'));

    const viaFlow = `card_${randomUUID()}`;
    await createCard(viaFlow, 'dtv1.card//IM_ROBOT.stu-emma');
    await stream(viaFlow, 'answer text');
    const put = await call('PUT', '/v1.0/card/instances', {
      outTrackId: viaFlow,
      cardData: { cardParamMap: { flowStatus: '3' } },
      cardUpdateOptions: { updateCardDataByKey: true },
    });
    expect(put.status).toBe(200);
    await page.waitUntil(() => page.messages.get(`card-${viaFlow}`)?.card?.status === 'finished', 'flowStatus 3');
    expect(page.messages.get(`card-${viaFlow}`)!.text).toBe('answer text');
  });

  it('answers the documented errors', async () => {
    const id = `card_${randomUUID()}`;
    await createCard(id, `dtv1.card//IM_GROUP.${GROUP}`);
    expect((await stream(id, '')).body.code).toBe('param.stream.contentEmpty');
    expect((await createCard(id, `dtv1.card//IM_GROUP.${GROUP}`)).body.code).toBe('param.cardAlreadyExist');
    expect((await stream(`card_${randomUUID()}`, 'x')).body).toMatchObject({ code: 'param.stream.outTrackId' });
    expect((await createCard(`card_${randomUUID()}`, 'IM_GROUP.nope')).body.code).toBe('param.openSpaceIdInvalid');
    expect((await createCard(`card_${randomUUID()}`, '', { cardTemplateId: '' })).body.code).toBe('param.templateNotExist');
    const nonString = await createCard(`card_${randomUUID()}`, `dtv1.card//IM_GROUP.${GROUP}`, { cardData: { cardParamMap: { flowStatus: 1 } } });
    expect(nonString.status).toBe(400);
    const unknownPerson = await createCard(`card_${randomUUID()}`, 'dtv1.card//IM_ROBOT.nobody');
    expect(unknownPerson.status).toBe(200);
    expect(unknownPerson.body.result.deliverResults[0].success).toBe(false);
    const noToken = await call('PUT', '/v1.0/card/streaming', { outTrackId: id, guid: 'g', key: 'content', content: 'x' }, false);
    expect(noToken).toMatchObject({ status: 400, body: { code: 'AuthenticationFailed.MissingParameter' } });
    const badToken = await fetch(`${base}/v1.0/card/streaming`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': 'stale' }, body: '{}' });
    expect(((await badToken.json()) as { code: string }).code).toBe('InvalidAuthentication');
    // An API the simulator does not have answers in DingTalk's shape and shows on the wire.
    expect(await call('POST', '/v1.0/robot/emotion/reply', {})).toMatchObject({ status: 404, body: { code: 'NotFound' } });
    await page.waitUntil(() => page.wire.some((e) => e.kind === 'api' && e.detail.includes('/v1.0/robot/emotion/reply')), 'the wire note');
  });
});

describe('the simulated Stream gateway and robot API', () => {
  it('refuses wrong credentials, and a ticket opens exactly one socket', async () => {
    const wrong = await call('POST', '/v1.0/gateway/connections/open', { clientId: demo.simulator.credentials.appKey, clientSecret: 'nope' }, false);
    expect(wrong).toMatchObject({ status: 401, body: { code: 'authFailed' } });
    const res = await fetch(`${base}/v1.0/gateway/connections/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ clientId: demo.simulator.credentials.appKey, clientSecret: demo.simulator.credentials.appSecret, subscriptions: [] }),
    });
    const { endpoint, ticket } = (await res.json()) as { endpoint: string; ticket: string };
    const open = (t: string) =>
      new Promise<'open' | 'refused'>((resolve) => {
        const ws = new WebSocket(`${endpoint}?ticket=${encodeURIComponent(t)}`);
        ws.once('open', () => {
          ws.close();
          resolve('open');
        });
        ws.once('error', () => resolve('refused'));
      });
    expect(await open(ticket)).toBe('open');
    expect(await open(ticket)).toBe('refused');
    expect(await open('made-up')).toBe('refused');
  });

  it('the robot OpenAPI sends need a token and show up in the chat they name', async () => {
    const param = JSON.stringify({ title: '通知', text: '**明天**停课 · no classes tomorrow' });
    const { appKey } = demo.simulator.credentials;
    const unauth = await call('POST', '/v1.0/robot/groupMessages/send', { robotCode: appKey, openConversationId: GROUP, msgKey: 'sampleMarkdown', msgParam: param }, false);
    expect(unauth.status).toBe(400);
    const group = await call('POST', '/v1.0/robot/groupMessages/send', { robotCode: appKey, openConversationId: GROUP, msgKey: 'sampleMarkdown', msgParam: param });
    expect(group.body.processQueryKey).toEqual(expect.any(String));
    const direct = await call('POST', '/v1.0/robot/oToMessages/batchSend', { robotCode: appKey, userIds: ['stu-zhangyue', 'ghost'], msgKey: 'sampleMarkdown', msgParam: param });
    expect(direct.body.invalidStaffIdList).toEqual(['ghost']);
    await page.waitUntil(
      () => page.botReplies(GROUP).some((m) => m.via === 'group-send') && page.botReplies(dmOf('stu-zhangyue')).some((m) => m.via === 'oto-send'),
      'both sends in the chat',
    );
  });
});
