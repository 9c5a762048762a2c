// The hive's local channel: an HTTP endpoint on a unix socket (a named pipe on Windows; loopback
// in tests) where this
// machine's workers post their heartbeats, which the hive relays to the queen unchanged. It is
// never on a public port. The socket's path is fixed per hive, so workers that outlived a hive
// restart find the new hive there and their heartbeats flow again.
import { getRequestListener } from "@hono/node-server";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { chmod, mkdir, rm } from "node:fs/promises";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import path from "node:path";
import { describeError, RbeeError } from "../../shared/errors.js";
import { formatHiveChannel, type HiveChannelAddress, isWindowsPipePath } from "../../shared/hive-channel-address.js";
import { limitBodySize, readJsonBody } from "../../shared/http/json-body.js";
import { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";
import { describeZodError } from "../../shared/validation.js";

/** A heartbeat is a few hundred bytes; anything much larger is not one. */
const MAX_HEARTBEAT_BYTES = 16 * 1024;
/**
 * How long a worker's idle connection stays open, longer than any heartbeat interval: its
 * heartbeats keep one connection, and the worker takes that connection's end for the hive's
 * (worker/heartbeat.ts), and beats again at once to find a restarted hive.
 */
const CHANNEL_KEEP_ALIVE_MS = 120_000;

export class LocalChannel {
  private readonly server: http.Server;

  constructor(
    private readonly onHeartbeat: (heartbeat: WorkerHeartbeat) => void,
    private readonly log: (line: string) => void,
  ) {
    this.server = http.createServer(getRequestListener(this.app().fetch));
    this.server.keepAliveTimeout = CHANNEL_KEEP_ALIVE_MS;
  }

  private socketPath: string | undefined;

  /**
   * Listens on the unix socket (only this user may connect), the Windows named pipe or, without
   * either, on a free loopback port, and resolves with the channel address workers are given
   * (`--hive-channel`).
   */
  async listen(socketPath?: string): Promise<string> {
    if (socketPath === undefined) {
      await this.listenOn({ port: 0, host: "127.0.0.1" });
      return formatHiveChannel({ kind: "tcp", host: "127.0.0.1", port: (this.server.address() as AddressInfo).port });
    }
    if (isWindowsPipePath(socketPath)) return this.listenOnPipe(socketPath);
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

  /**
   * A named pipe is no file: nothing to create, chmod or remove, and it vanishes with the last
   * handle. libuv creates it as the pipe's first instance, so a name still held fails (EADDRINUSE).
   */
  private async listenOnPipe(pipePath: string): Promise<string> {
    if (await answers(pipePath)) throw alreadyRunning(pipePath);
    try {
      await this.listenOn({ path: pipePath });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw alreadyRunning(pipePath);
      throw error;
    }
    return formatHiveChannel({ kind: "pipe", pipePath });
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

  /** POST /heartbeat and nothing else; answers are `{error}` for people reading a worker's log, not OpenAI errors. */
  private app(): Hono {
    const app = new Hono();
    const bodyCap = limitBodySize(MAX_HEARTBEAT_BYTES, (maxBytes) => `heartbeat exceeds ${maxBytes} bytes`);
    app.post("/heartbeat", bodyCap, async (c) => {
      const parsed = WorkerHeartbeat.safeParse(await readJsonBody(c, () => "heartbeat is not JSON"));
      if (!parsed.success) {
        const message = describeZodError(parsed.error);
        this.log(`refused a worker heartbeat: ${message}`);
        return c.json({ error: message }, 400);
      }
      this.onHeartbeat(parsed.data);
      return c.body(null, 204);
    });
    app.notFound((c) => c.json({ error: "only POST /heartbeat exists here" }, 404));
    app.onError((error, c) => {
      if (error instanceof RbeeError) return c.json({ error: error.message }, error.status as ContentfulStatusCode);
      this.log(`a worker heartbeat failed: ${describeError(error)}`);
      return c.json({ error: "the hive failed to take the heartbeat" }, 500);
    });
    return app;
  }
}

/**
 * A socket file left by a hive that died is removed; one that still answers belongs to a running
 * hive with the same name, and two hives must not share one channel (nor one queen session).
 */
async function removeStaleSocket(socketPath: string): Promise<void> {
  if (await answers(socketPath)) throw alreadyRunning(socketPath);
  await rm(socketPath, { force: true });
}

/** Whether something accepts connections on the socket or pipe. */
function answers(socketPath: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const probe = net.connect({ path: socketPath });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

function alreadyRunning(socketPath: string): RbeeError {
  return new RbeeError(409, "hive_already_running", `another hive is already listening on ${socketPath}; stop it, or give this one another --name`);
}
