import net from 'node:net';

export interface RawExchange {
  /** Everything the server sent before closing (or before `waitMs` ran out). */
  readonly received: string;
  /** True when the server closed the connection within `waitMs`. */
  readonly closedByServer: boolean;
}

/**
 * Writes `request` as is on a fresh connection (fetch cannot send half a body, a 4 KB header or
 * nothing at all) and collects the answer until the server closes or `waitMs` passes.
 */
export function rawExchange(url: string, request: string | Buffer, waitMs = 5_000): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    let received = '';
    let settled = false;
    const finish = (closedByServer: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, closedByServer });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('connect', () => {
      if (request.length > 0) socket.write(request);
    });
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
  });
}

/** Opens `count` connections that send nothing; resolves once all are open (or refused). */
export async function openIdleConnections(url: string, count: number): Promise<net.Socket[]> {
  const { hostname, port } = new URL(url);
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Socket>((resolve) => {
          const socket = net.connect(Number(port), hostname);
          socket.on('error', () => undefined);
          socket.once('connect', () => resolve(socket));
          socket.once('close', () => resolve(socket));
        }),
    ),
  );
}
