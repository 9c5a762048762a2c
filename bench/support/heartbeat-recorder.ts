// Stands in for the hive's loopback channel in bench/worker-start.ts: records when each worker's
// heartbeats arrive, so the benchmark can time a spawn up to the first `ready` the hive would see.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { WorkerHeartbeat, type WorkerState } from "../../shared/protocol/worker-heartbeat.js";

export interface ArrivedHeartbeat {
  heartbeat: WorkerHeartbeat;
  /** performance.now() when its body had arrived, on the clock WorkerProcess.spawnedAt uses. */
  arrivedAt: number;
}

interface Waiter {
  workerId: string;
  state: WorkerState | undefined;
  resolve: (arrived: ArrivedHeartbeat) => void;
}

export class HeartbeatRecorder {
  /**
   * Starts listening on a free loopback port. Answers 204 like the hive, and 400 to anything that
   * is not a valid heartbeat on /heartbeat, which the benchmark then reports as a failure.
   */
  static async start(): Promise<HeartbeatRecorder> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    const { port } = server.address() as AddressInfo;
    return new HeartbeatRecorder(server, `http://127.0.0.1:${port}`);
  }

  private readonly arrived: ArrivedHeartbeat[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly rejectedRequests: string[] = [];
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    /** The `--hive-channel` URL to give workers. */
    readonly url: string,
  ) {
    server.on("request", (request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        // Timed before parsing, as close as this process can get to when the worker's send landed.
        const arrivedAt = performance.now();
        const parsed = request.method === "POST" && request.url === "/heartbeat" ? WorkerHeartbeat.safeParse(parseJson(body)) : undefined;
        if (parsed?.success) this.record({ heartbeat: parsed.data, arrivedAt });
        else this.rejectedRequests.push(`${request.method ?? ""} ${request.url ?? ""} ${body}`.slice(0, 500));
        response.writeHead(parsed?.success ? 204 : 400).end();
      });
    });
  }

  /** Requests that were not a valid heartbeat POSTed to /heartbeat. */
  get rejected(): readonly string[] {
    return this.rejectedRequests;
  }

  /**
   * The first heartbeat from `workerId` (in `state`, when given), including one that arrived
   * before this call. Rejects when `signal` aborts first; use a distinct worker id per spawn.
   */
  first(workerId: string, state: WorkerState | undefined, signal: AbortSignal): Promise<ArrivedHeartbeat> {
    const earlier = this.arrived.find((each) => matches(each, workerId, state));
    if (earlier) return Promise.resolve(earlier);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        workerId,
        state,
        resolve: (arrived) => {
          signal.removeEventListener("abort", onAbort);
          resolve(arrived);
        },
      };
      const onAbort = (): void => {
        this.waiters.delete(waiter);
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  /** Stops listening and drops the workers' keep-alive connections. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private record(arrived: ArrivedHeartbeat): void {
    this.arrived.push(arrived);
    for (const waiter of this.waiters) {
      if (!matches(arrived, waiter.workerId, waiter.state)) continue;
      this.waiters.delete(waiter);
      waiter.resolve(arrived);
    }
  }
}

function matches(arrived: ArrivedHeartbeat, workerId: string, state: WorkerState | undefined): boolean {
  return arrived.heartbeat.workerId === workerId && (state === undefined || arrived.heartbeat.state === state);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
