// A TCP relay in front of a real server that can go silent without closing anything: what a network partition or a
// frozen host looks like to a client (the connections stay open, nothing comes back).
import { createServer, connect, type Socket } from 'node:net';

export interface FreezableProxy {
  /** 127.0.0.1 port the relay listens on. */
  port: number;
  /** From now on every byte either way is dropped; connections stay open, new ones are accepted. */
  freeze(): void;
  /** Relays again (connections that lost bytes while frozen are broken for their protocol; new ones work). */
  thaw(): void;
  close(): Promise<void>;
}

export async function freezableProxy(target: { host: string; port: number }): Promise<FreezableProxy> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    track(client);
    track(upstream);
    client.on('data', (chunk) => frozen || upstream.write(chunk));
    upstream.on('data', (chunk) => frozen || client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    freeze: () => void (frozen = true),
    thaw: () => void (frozen = false),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
