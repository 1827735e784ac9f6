import axios from 'axios';

/**
 * Why the Stream gateway gave no ticket: `credentials` (HTTP 401 `authFailed`, reference §1.1),
 * `app-not-ready` (another 4xx: reported for an unpublished app or a robot not in Stream mode),
 * `unavailable` (no answer, a timeout or a 5xx).
 */
export type GatewayFailureKind = 'credentials' | 'app-not-ready' | 'unavailable';

export class GatewayError extends Error {
  readonly kind: GatewayFailureKind;
  readonly status?: number;
  readonly code?: string;

  constructor(kind: GatewayFailureKind, message: string, extra: { status?: number; code?: string } = {}) {
    super(message);
    this.name = 'GatewayError';
    this.kind = kind;
    this.status = extra.status;
    this.code = extra.code;
  }
}

export interface GatewayTicketRequest {
  /** DINGTALK_API_BASE. */
  readonly apiBase: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly subscriptions: ReadonlyArray<{ type: string; topic: string }>;
  readonly ua: string;
  readonly timeoutMs: number;
}

export interface GatewayTicket {
  readonly endpoint: string;
  /** A credential for 90 s that opens exactly one connection: never log it. */
  readonly ticket: string;
}

/**
 * Registers at `${apiBase}/v1.0/gateway/connections/open` for a fresh, single-use ticket. Used
 * by the Stream client before every connection and by `npm run doctor` (which opens no socket).
 */
export async function requestGatewayTicket(req: GatewayTicketRequest): Promise<GatewayTicket> {
  let res;
  try {
    res = await axios.post(
      `${req.apiBase}/v1.0/gateway/connections/open`,
      { clientId: req.clientId, clientSecret: req.clientSecret, subscriptions: req.subscriptions, ua: req.ua },
      {
        timeout: req.timeoutMs,
        validateStatus: () => true,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      },
    );
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new GatewayError('unavailable', `gateway unreachable: ${typeof code === 'string' ? code : String(err)}`);
  }
  const body = (res.data ?? {}) as { endpoint?: unknown; ticket?: unknown; code?: unknown };
  if (res.status === 200 && typeof body.endpoint === 'string' && typeof body.ticket === 'string') {
    return { endpoint: body.endpoint, ticket: body.ticket };
  }
  const code = typeof body.code === 'string' ? body.code : '';
  const what = `gateway refused the connection: HTTP ${res.status} ${code}`.trim();
  if (res.status === 401 || code === 'authFailed') {
    throw new GatewayError('credentials', `${what} (check DING_APP_KEY / DING_APP_SECRET)`, { status: res.status, code });
  }
  if (res.status >= 400 && res.status < 500) {
    throw new GatewayError('app-not-ready', `${what} (is the app published, with the robot in Stream mode?)`, { status: res.status, code });
  }
  throw new GatewayError('unavailable', what, { status: res.status, code });
}
