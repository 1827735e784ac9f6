import { FakeAssistantApi, type FakeAssistantOptions } from './fake-assistant-api.js';
import { FakeCardApi } from './fake-card-api.js';
import { FakeHttpServer } from './fake-http-server.js';
import { FakeRobotApi } from './fake-robot-api.js';
import { FakeStreamGateway, type FakeStreamGatewayOptions } from './fake-stream-gateway.js';
import { FakeTokenApi, type FakeTokenApiOptions } from './fake-token-api.js';

export interface FakeDingTalkOptions {
  readonly token?: FakeTokenApiOptions;
  readonly assistant?: Omit<FakeAssistantOptions, 'tokens'>;
  /** Gateway behaviour (e.g. `redeliverUnackedAfterMs`); the credentials come from `token`. */
  readonly gateway?: Omit<FakeStreamGatewayOptions, 'appKey' | 'appSecret'>;
}

/** One fake DingTalk on 127.0.0.1:0; each module registers its routes on the same server. */
export interface FakeDingTalk {
  readonly server: FakeHttpServer;
  /** Use as DINGTALK_API_BASE. */
  readonly baseUrl: string;
  readonly tokens: FakeTokenApi;
  readonly assistant: FakeAssistantApi;
  /** Stream gateway (connections/open + WebSocket) and robot reply paths. */
  readonly gateway: FakeStreamGateway;
  readonly robot: FakeRobotApi;
  /** AI-card endpoints (create and deliver, streaming update, instance update). */
  readonly cards: FakeCardApi;
  close(): Promise<void>;
}

/** Thin composition: new modules (Stream gateway, robot API) are added here the same way. */
export async function startFakeDingTalk(options: FakeDingTalkOptions = {}): Promise<FakeDingTalk> {
  const server = new FakeHttpServer();
  const tokens = new FakeTokenApi(server, options.token);
  const assistant = new FakeAssistantApi(server, { ...options.assistant, tokens });
  const gateway = new FakeStreamGateway(server, { ...options.gateway, appKey: tokens.appKey, appSecret: tokens.appSecret });
  const robot = new FakeRobotApi(server, { robotCode: tokens.appKey, checkAuth: (r) => tokens.checkAuth(r) });
  const cards = new FakeCardApi(server, { robotCode: tokens.appKey, checkAuth: (r) => tokens.checkAuth(r) });
  const baseUrl = await server.listen();
  const close = async () => {
    await gateway.close();
    await server.close();
  };
  return { server, baseUrl, tokens, assistant, gateway, robot, cards, close };
}
