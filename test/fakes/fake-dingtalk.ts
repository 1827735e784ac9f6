import { FakeAssistantApi, type FakeAssistantOptions } from './fake-assistant-api.js';
import { FakeHttpServer } from './fake-http-server.js';
import { FakeTokenApi, type FakeTokenApiOptions } from './fake-token-api.js';

export interface FakeDingTalkOptions {
  readonly token?: FakeTokenApiOptions;
  readonly assistant?: Omit<FakeAssistantOptions, 'tokens'>;
}

/** One fake DingTalk on 127.0.0.1:0; each module registers its routes on the same server. */
export interface FakeDingTalk {
  readonly server: FakeHttpServer;
  /** Use as DINGTALK_API_BASE. */
  readonly baseUrl: string;
  readonly tokens: FakeTokenApi;
  readonly assistant: FakeAssistantApi;
  close(): Promise<void>;
}

/** Thin composition: new modules (Stream gateway, robot API) are added here the same way. */
export async function startFakeDingTalk(options: FakeDingTalkOptions = {}): Promise<FakeDingTalk> {
  const server = new FakeHttpServer();
  const tokens = new FakeTokenApi(server, options.token);
  const assistant = new FakeAssistantApi(server, { ...options.assistant, tokens });
  const baseUrl = await server.listen();
  return { server, baseUrl, tokens, assistant, close: () => server.close() };
}
