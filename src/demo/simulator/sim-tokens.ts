import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { objectBody, sendDingError, type SimCredentials, type WireLog } from './sim-replies.js';

const TOKEN_LIFE_S = 7200;

/**
 * `POST /v1.0/oauth2/accessToken` and the token check every other OpenAPI call makes. Like
 * DingTalk, asking again while a token is valid returns the same token; a bad token is a 400
 * `InvalidAuthentication` (not a 401).
 */
export class SimTokens {
  private current: { token: string; expiresAt: number } | undefined;

  constructor(
    private readonly credentials: SimCredentials,
    private readonly wire: WireLog,
  ) {}

  register(app: FastifyInstance): void {
    app.post('/v1.0/oauth2/accessToken', async (req, reply) => {
      const body = objectBody(req.body);
      if (body.appKey !== this.credentials.appKey || body.appSecret !== this.credentials.appSecret) {
        this.wire('token', 'access token refused: wrong appKey/appSecret');
        return sendDingError(reply, 400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret');
      }
      const now = Date.now();
      if (!this.current || now >= this.current.expiresAt) {
        this.current = { token: randomBytes(16).toString('hex'), expiresAt: now + TOKEN_LIFE_S * 1000 };
        this.wire('token', 'access token issued (valid 2 h)');
      }
      this.current.expiresAt = now + TOKEN_LIFE_S * 1000;
      return { accessToken: this.current.token, expireIn: TOKEN_LIFE_S };
    });
  }

  /** Sends DingTalk's error and returns true when the request's token is missing or invalid. */
  refused(req: FastifyRequest, reply: FastifyReply): boolean {
    const header = req.headers['x-acs-dingtalk-access-token'];
    const token = Array.isArray(header) ? header[0] : header;
    if (!token) {
      sendDingError(reply, 400, 'AuthenticationFailed.MissingParameter', '缺少参数 x-acs-dingtalk-access-token');
      return true;
    }
    if (token !== this.current?.token || Date.now() >= this.current.expiresAt) {
      sendDingError(reply, 400, 'InvalidAuthentication', '不合法的access_token');
      return true;
    }
    return false;
  }
}
