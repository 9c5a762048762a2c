// A TCP proxy on 127.0.0.1 for fault drills: forwards each connection to a target port, and can
// freeze the connections open now: from then on they carry nothing either way and are never
// closed on the other side, as a NAT or a dead link drops a flow without a FIN or RST. New
// connections are forwarded normally, unless the proxy is told to refuse them for a while. It can
// also cut every connection now (a reset both ends see at once: a socket drop, not a process's).
import { createServer, type Server, type Socket, connect } from "node:net";
import type { AddressInfo } from "node:net";

interface Pair {
  client: Socket;
  upstream: Socket;
  frozen: boolean;
}

export class TcpProxy {
  /** While true, new connections are dropped at once (the hive cannot reconnect yet). */
  refuseNew = false;

  private constructor(
    private readonly server: Server,
    private readonly pairs: Set<Pair>,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const pairs = new Set<Pair>();
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      if (proxy?.refuseNew) {
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, "127.0.0.1");
      const pair: Pair = { client, upstream, frozen: false };
      pairs.add(pair);
      client.on("data", (chunk) => {
        if (!pair.frozen) upstream.write(chunk);
      });
      upstream.on("data", (chunk) => {
        if (!pair.frozen) client.write(chunk);
      });
      // A frozen pair hides every end from the other side: that is the half-open connection.
      client.on("close", () => {
        if (!pair.frozen) upstream.destroy();
      });
      upstream.on("close", () => {
        if (!pair.frozen) client.destroy();
      });
      client.on("error", () => {});
      upstream.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new TcpProxy(server, pairs, (server.address() as AddressInfo).port);
    return proxy;
  }

  /** Freezes every connection open now; returns how many. */
  freeze(): number {
    let frozen = 0;
    for (const pair of this.pairs) {
      if (pair.client.destroyed || pair.frozen) continue;
      pair.frozen = true;
      frozen += 1;
    }
    return frozen;
  }

  /** Resets every connection open now, both sides; returns how many. */
  cut(): number {
    let cut = 0;
    for (const pair of this.pairs) {
      if (pair.client.destroyed) continue;
      pair.client.resetAndDestroy();
      pair.upstream.resetAndDestroy();
      cut += 1;
    }
    return cut;
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
