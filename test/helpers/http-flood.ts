import net from 'node:net';

export interface FloodOptions {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Parallel keep-alive connections. */
  readonly connections: number;
  /** How long to flood. */
  readonly durationMs: number;
  /** Length of the (404) path sent, e.g. 4096 for 4 KB URLs. */
  readonly pathLength: number;
  /** Requests written ahead of their responses on each connection (HTTP/1.1 pipelining). */
  readonly pipeline?: number;
}

export interface FloodResult {
  /** Requests written. */
  readonly sent: number;
  /** Responses read, by status. */
  readonly statuses: Record<number, number>;
  /** Connections the server closed or that failed (each is reopened while the flood lasts). */
  readonly reconnects: number;
}

/**
 * One hostile client: requests for a long unknown path as fast as the server takes them, over a
 * few pipelined keep-alive connections (reopened when the server closes one). Bounded by
 * `durationMs`; counts statuses from the raw response lines.
 */
export async function floodWith404s(options: FloodOptions): Promise<FloodResult> {
  const { hostname, port } = new URL(options.url);
  const path = `/${'a'.repeat(Math.max(1, options.pathLength - 1))}`;
  const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nUser-Agent: flood\r\n\r\n`);
  const pipeline = options.pipeline ?? 16;
  const until = Date.now() + options.durationMs;
  const statuses: Record<number, number> = {};
  let sent = 0;
  let reconnects = 0;

  const runConnection = () =>
    new Promise<void>((resolve) => {
      const socket = net.connect(Number(port), hostname);
      let inFlight = 0;
      let tail = '';
      const fill = () => {
        while (inFlight < pipeline && Date.now() < until && socket.writable) {
          inFlight++;
          sent++;
          if (!socket.write(request)) break;
        }
      };
      socket.on('connect', fill);
      socket.on('drain', fill);
      socket.on('data', (chunk: Buffer) => {
        const text = tail + chunk.toString('latin1');
        const re = /HTTP\/1\.1 (\d{3})/g;
        let m: RegExpExecArray | null;
        let last = 0;
        while ((m = re.exec(text))) {
          statuses[Number(m[1])] = (statuses[Number(m[1])] ?? 0) + 1;
          inFlight--;
          last = re.lastIndex;
        }
        tail = text.slice(Math.max(last, text.length - 16));
        if (Date.now() >= until) socket.destroy();
        else fill();
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
      const timer = setTimeout(() => socket.destroy(), Math.max(0, until - Date.now()) + 50);
      socket.once('close', () => clearTimeout(timer));
    });

  const worker = async () => {
    while (Date.now() < until) {
      await runConnection();
      if (Date.now() < until) {
        reconnects++;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  return { sent, statuses, reconnects };
}
