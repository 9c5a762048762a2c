// Starts a worker process for a model and reports `{pid, port}` once it listens, or why it
// could not start (its own last words on stderr). The hive keeps no list of what it started:
// the queen learns about workers from their heartbeats.
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { RbeeError } from "../../shared/errors.js";
import { waitForListeningLine } from "../../worker/listening-line.js";
import { findFreeLoopbackPort } from "./free-port.js";

/** The worker entry point; also how the hive recognises its workers among processes. */
export const WORKER_ENTRY = fileURLToPath(new URL("../../worker/main.ts", import.meta.url));

/** How long to wait for a worker to listen before reporting it as started-but-loading. */
const LISTEN_WAIT_MS = 30_000;
/** Bytes of the worker's stderr kept to explain a failed start. */
const STDERR_TAIL_BYTES = 2000;

export interface SpawnWorkerOptions {
  workerId: string;
  model: string;
  /** `file:/path/to/model.gguf` */
  source: string;
  hiveChannelUrl: string;
  heartbeatIntervalMs: number;
  threads?: number | undefined;
  log: (line: string) => void;
  /** Aborting it before the worker listens kills the worker; afterwards it changes nothing. */
  signal?: AbortSignal;
}

export interface SpawnedWorker {
  pid: number;
  port: number;
}

export async function spawnWorker(options: SpawnWorkerOptions): Promise<SpawnedWorker> {
  const modelPath = await resolveFileSource(options.source);
  options.signal?.throwIfAborted();
  const port = await findFreeLoopbackPort();
  const args = [
    "--import",
    "tsx",
    WORKER_ENTRY,
    ["--model", modelPath],
    ["--model-name", options.model],
    ["--worker-id", options.workerId],
    ["--port", String(port)],
    ["--hive-channel", options.hiveChannelUrl],
    ["--heartbeat-interval-ms", String(options.heartbeatIntervalMs)],
    options.threads === undefined ? [] : ["--threads", String(options.threads)],
  ].flat();
  const child = execa(process.execPath, args, {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    reject: false,
    // Workers stop with the hive for now; surviving a hive restart comes with the catalogs.
    cleanup: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new RbeeError(500, "spawn_failed", "the worker process could not be started");

  let stderrTail = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL_BYTES);
    for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) options.log(`[${options.workerId}] ${line}`);
  });
  child.on("exit", (code, signal) => options.log(`worker ${options.workerId} (pid ${pid}) exited: ${signal ?? `code ${code}`}`));

  const onAbort = () => child.kill("SIGTERM");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const outcome = await Promise.race([
    waitForListeningLine(child.stdout),
    child.then((result) => ({ exited: result.exitCode ?? result.signal ?? "unknown" })),
    delay(LISTEN_WAIT_MS).then(() => "still-loading" as const),
  ]).finally(() => options.signal?.removeEventListener("abort", onAbort));
  options.signal?.throwIfAborted();
  if (typeof outcome === "object" && "exited" in outcome) {
    const reason = stderrTail.trim().split("\n").slice(-3).join(" | ") || "no output";
    throw new RbeeError(502, "worker_failed_to_start", `worker exited (${outcome.exited}) before listening: ${reason}`);
  }
  return { pid, port };
}

/** `file:/abs/path.gguf` → the path, checked to be an existing regular file. */
async function resolveFileSource(source: string): Promise<string> {
  let path: string;
  try {
    path = fileURLToPath(new URL(source));
  } catch {
    throw new RbeeError(400, "invalid_model_source", `model source '${source}' is not a valid file: URL`);
  }
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new RbeeError(404, "model_file_not_found", `model file '${path}' does not exist`);
  return path;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
