import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');

export type ExtraRoute = (request: IncomingMessage, response: ServerResponse) => void;

export interface PhotoServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that serves `test/fixtures/photos/<name>`, plus any extra routes a test needs. */
export async function startPhotoServer(extraRoutes: Record<string, ExtraRoute> = {}): Promise<PhotoServer> {
  const requests: string[] = [];
  const server = createServer(async (request, response) => {
    const url = request.url ?? '/';
    requests.push(url);
    const extra = extraRoutes[url];
    if (extra) return extra(request, response);
    const name = path.basename(url);
    try {
      const body = await readFile(path.join(FIXTURES, 'photos', name));
      response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length });
      response.end(body);
    } catch {
      response.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Extra photo-server routes that misbehave the way a hostile photo host would. */
export function misbehavingPhotoRoutes(timers: Set<NodeJS.Timeout>, dripEveryMs: number): Record<string, ExtraRoute> {
  return {
    '/endless.jpg': (_request: IncomingMessage, response: ServerResponse) => {
      response.writeHead(200, { 'content-type': 'image/jpeg' });
      const write = () => {
        while (!response.destroyed && response.write(Buffer.alloc(64 * 1024, 0xff)));
        if (!response.destroyed) response.once('drain', write);
      };
      write();
    },
    '/drip.jpg': (_request: IncomingMessage, response: ServerResponse) => {
      response.writeHead(200, { 'content-type': 'image/jpeg' });
      const timer = setInterval(() => response.write(Buffer.from([0xff])), dripEveryMs);
      timers.add(timer);
      response.on('close', () => clearInterval(timer));
    },
  };
}
