// The hive's local channel: an HTTP endpoint on a unix socket (or loopback, in tests) where this
// machine's workers post their heartbeats, which the hive relays to the queen unchanged. It is
// never on a public port. The socket's path is fixed per hive, so workers that outlived a hive
// restart find the new hive there and their heartbeats flow again.
import { chmod, mkdir, rm } from "node:fs/promises";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import path from "node:path";
import { RbeeError } from "../../shared/errors.js";
import { formatHiveChannel, type HiveChannelAddress } from "../../shared/hive-channel-address.js";
import { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";
import { describeZodError } from "../../shared/validation.js";

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

  private socketPath: string | undefined;

  /**
   * Listens on the unix socket (only this user may connect) or, without one, on a free loopback
   * port, and resolves with the channel address workers are given (`--hive-channel`).
   */
  async listen(socketPath?: string): Promise<string> {
    if (socketPath === undefined) {
      await this.listenOn({ port: 0, host: "127.0.0.1" });
      return formatHiveChannel({ kind: "tcp", host: "127.0.0.1", port: (this.server.address() as AddressInfo).port });
    }
    const folder = path.dirname(socketPath);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    // mkdir's mode only applies to a folder it creates; one left by an older hive may be open.
    await chmod(folder, 0o700);
    await removeStaleSocket(socketPath);
    // A socket is created with 0777 less the umask, and chmod after listen would leave a moment
    // in which any local user could connect. The umask is process-wide, so it is restored at once.
    const umask = process.umask(0o077);
    try {
      await this.listenOn({ path: socketPath });
    } finally {
      process.umask(umask);
    }
    this.socketPath = socketPath;
    await chmod(socketPath, 0o600);
    return formatHiveChannel({ kind: "unix", socketPath } satisfies HiveChannelAddress);
  }

  /** Stops listening; safe to call twice. Workers keep running and retry their heartbeats. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.socketPath) await rm(this.socketPath, { force: true });
  }

  private listenOn(options: net.ListenOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(options, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
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

/**
 * A socket file left by a hive that died is removed; one that still answers belongs to a running
 * hive with the same name, and two hives must not share one channel (nor one queen session).
 */
async function removeStaleSocket(socketPath: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path: socketPath });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (alive) {
    throw new RbeeError(409, "hive_already_running", `another hive is already listening on ${socketPath}; stop it, or give this one another --name`);
  }
  await rm(socketPath, { force: true });
}
