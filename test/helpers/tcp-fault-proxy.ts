/**
 * A TCP proxy for tests that cut a service's connections: it sits between jobwait and a broker
 * (RabbitMQ, Redis) shared with other tests, so a test can drop its own connections — and refuse
 * new ones for a while — without touching the broker or anyone else's connections.
 */
import { createServer, connect, type Socket } from 'node:net';

/** A running proxy. */
export interface TcpFaultProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Connections made through the proxy so far. */
  readonly connections: number;
  /** Destroys every open connection (both sides), as a network failure would. */
  cut(): void;
  /** While down, new connections are accepted and closed at once; `cut()` is implied. */
  down(): void;
  /** Takes connections again. */
  up(): void;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 port 0 to `host:port`. */
export async function startTcpFaultProxy(host: string, port: number): Promise<TcpFaultProxy> {
  const open = new Set<Socket>();
  let refusing = false;
  let connections = 0;
  const server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    connections++;
    const upstream = connect(port, host);
    open.add(client);
    open.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const proxyPort = typeof address === 'object' && address ? address.port : 0;
  const cut = (): void => {
    for (const socket of [...open]) socket.destroy();
    open.clear();
  };
  return {
    port: proxyPort,
    via(url) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(proxyPort);
      return parsed.toString();
    },
    get connections() {
      return connections;
    },
    cut,
    down() {
      refusing = true;
      cut();
    },
    up() {
      refusing = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
}
