// The hive's local channel: a loopback-only HTTP endpoint where this machine's workers post
// their heartbeats, which the hive relays to the queen unchanged. It is never on a public port.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WorkerHeartbeat } from "../shared/protocol/worker-heartbeat.js";
import { describeZodError } from "../shared/validation.js";

/** A heartbeat is a few hundred bytes; anything much larger is not one. */
const MAX_HEARTBEAT_BYTES = 16 * 1024;

export class LocalChannel {
  private readonly server: http.Server;

  constructor(
    private readonly onHeartbeat: (heartbeat: WorkerHeartbeat) => void,
    private readonly log: (line: string) => void,
  ) {
    this.server = http.createServer((request, response) => this.handle(request, response));
  }

  /** Listens on 127.0.0.1 and resolves with the channel URL workers are given. */
  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => resolve());
    });
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    if (request.method !== "POST" || request.url !== "/heartbeat") {
      reply(response, 404, { error: "only POST /heartbeat exists here" });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_HEARTBEAT_BYTES) {
        reply(response, 413, { error: `heartbeat exceeds ${MAX_HEARTBEAT_BYTES} bytes` });
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (response.headersSent) return;
      let json: unknown;
      try {
        json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        reply(response, 400, { error: "heartbeat is not JSON" });
        return;
      }
      const parsed = WorkerHeartbeat.safeParse(json);
      if (!parsed.success) {
        const message = describeZodError(parsed.error);
        this.log(`refused a worker heartbeat: ${message}`);
        reply(response, 400, { error: message });
        return;
      }
      this.onHeartbeat(parsed.data);
      reply(response, 204);
    });
  }
}

function reply(response: http.ServerResponse, status: number, body?: object): void {
  if (response.headersSent) return;
  response.writeHead(status, body ? { "content-type": "application/json" } : {});
  response.end(body ? JSON.stringify(body) : undefined);
}
