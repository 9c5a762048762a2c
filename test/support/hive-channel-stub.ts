// Stands in for the hive's loopback channel in the worker's tests: records every heartbeat the
// worker posts, validated against the shared schema, and remembers anything invalid.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";

export class HiveChannelStub {
  private readonly received: WorkerHeartbeat[] = [];
  /** Requests that were not a valid heartbeat on the right path. */
  readonly rejected: string[] = [];

  private constructor(
    private readonly server: Server,
    /** The `--hive-channel` URL to give workers. */
    readonly url: string,
  ) {}

  static async start(): Promise<HiveChannelStub> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const stub = new HiveChannelStub(server, `http://127.0.0.1:${port}`);
    server.on("request", (request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        const parsed = request.url === "/heartbeat" ? WorkerHeartbeat.safeParse(JSON.parse(body) as unknown) : undefined;
        if (parsed?.success) stub.received.push(parsed.data);
        else stub.rejected.push(`${request.url ?? ""} ${body}`);
        response.writeHead(parsed?.success ? 204 : 400).end();
      });
    });
    return stub;
  }

  heartbeats(workerId: string): WorkerHeartbeat[] {
    return this.received.filter((heartbeat) => heartbeat.workerId === workerId);
  }

  states(workerId: string): string[] {
    return this.heartbeats(workerId).map((heartbeat) => heartbeat.state);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
