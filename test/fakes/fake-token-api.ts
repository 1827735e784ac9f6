import { randomBytes } from 'node:crypto';
import { dingError, type FakeHttpServer, type FakeRequest, type FakeResponse } from './fake-http-server.js';

export interface FakeTokenApiOptions {
  readonly appKey?: string;
  readonly appSecret?: string;
  /** Lifetime of issued tokens in seconds (DingTalk: 7200). */
  readonly expireIn?: number;
}

interface Issued {
  readonly expiresAt: number;
}

/**
 * Fakes `POST /v1.0/oauth2/accessToken` and the token check every other DingTalk API does.
 * Like DingTalk, asking again while a token is valid returns the same token, extended.
 */
export class FakeTokenApi {
  readonly appKey: string;
  readonly appSecret: string;
  /** Lifetime of tokens issued from now on, in seconds. */
  expireIn: number;
  /** Every token ever issued, in order (a re-issued token appears again). */
  readonly issued: string[] = [];
  /** Token requests answered so far (successful or not). */
  calls = 0;
  private readonly valid = new Map<string, Issued>();
  private current: string | undefined;

  constructor(server: FakeHttpServer, options: FakeTokenApiOptions = {}) {
    this.appKey = options.appKey ?? 'ding-fake-app-key';
    this.appSecret = options.appSecret ?? 'fake-app-secret-0123456789abcdef';
    this.expireIn = options.expireIn ?? 7200;
    server.route('POST', '/v1.0/oauth2/accessToken', (req) => this.issue(req));
  }

  /** Every issued token stops working: the next API call gets 400 InvalidAuthentication. */
  revokeAll(): void {
    this.valid.clear();
    this.current = undefined;
  }

  isValid(token: string | undefined): boolean {
    const t = token ? this.valid.get(token) : undefined;
    return t !== undefined && Date.now() < t.expiresAt;
  }

  /**
   * What DingTalk's gateway answers for the request's token: undefined when it is valid, else
   * the 400 error. API fake modules return this before doing anything.
   */
  checkAuth(req: FakeRequest): FakeResponse | undefined {
    const header = req.headers['x-acs-dingtalk-access-token'];
    const token = Array.isArray(header) ? header[0] : header;
    if (!token) {
      return dingError(400, 'AuthenticationFailed.MissingParameter', '缺少参数 x-acs-dingtalk-access-token');
    }
    if (!this.isValid(token)) return dingError(400, 'InvalidAuthentication', '不合法的access_token');
    return undefined;
  }

  private issue(req: FakeRequest): FakeResponse {
    this.calls++;
    const body = req.body as { appKey?: unknown; appSecret?: unknown } | undefined;
    if (body?.appKey !== this.appKey || body?.appSecret !== this.appSecret) {
      // The code for wrong credentials is our guess; DingTalk answers 400 with some code.
      return dingError(400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret');
    }
    const token = this.isValid(this.current) ? this.current! : randomBytes(16).toString('hex');
    this.current = token;
    this.valid.set(token, { expiresAt: Date.now() + this.expireIn * 1000 });
    this.issued.push(token);
    return { status: 200, body: { accessToken: token, expireIn: this.expireIn } };
  }
}

export function installFakeTokenApi(server: FakeHttpServer, options?: FakeTokenApiOptions): FakeTokenApi {
  return new FakeTokenApi(server, options);
}
