import http from 'node:http';

export interface AskReply {
  readonly status: number;
  readonly code?: number;
  readonly answer?: string;
  readonly sessionId?: string;
  /** Request start to last byte of the answer, in ms. */
  readonly ms: number;
}

/** `POST /assistant/ask` over a keep-alive agent with a bounded socket pool. */
export class AskClient {
  private readonly agent: http.Agent;
  private readonly url: URL;

  constructor(baseUrl: string, maxSockets = 64) {
    this.url = new URL('/assistant/ask', baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  ask(question: string, sessionId?: string, timeoutMs = 30_000): Promise<AskReply> {
    const body = Buffer.from(JSON.stringify(sessionId ? { question, sessionId } : { question }));
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const ms = performance.now() - started;
            try {
              const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<AskReply, 'status' | 'ms'>;
              resolve({ status: res.statusCode ?? 0, ...json, ms });
            } catch {
              resolve({ status: res.statusCode ?? 0, ms });
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Asks and insists on a 200 with an answer. */
  async askOk(question: string, sessionId?: string): Promise<AskReply & { sessionId: string; answer: string }> {
    const r = await this.ask(question, sessionId);
    if (r.status !== 200 || r.answer === undefined || r.sessionId === undefined) {
      throw new Error(`ask failed: HTTP ${r.status} code ${String(r.code)}`);
    }
    return r as AskReply & { sessionId: string; answer: string };
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `task(i)` for i in [0, count) with at most `limit` in flight; results in index order. */
export async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) results[i] = await task(i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}
