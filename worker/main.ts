// Entry point of the worker process, which the hive spawns as `node --import tsx worker/main.ts --model …`:
// parse flags, listen (answering 503 `loading` with the progress), load the model, then serve the
// HTTP API; heartbeats go out from the start until SIGTERM or SIGINT. Listening first means a
// model that takes minutes to load is followed by its progress, not killed by a start deadline.
//
// Exit codes: 0 after a clean shutdown, 1 when the model or port fails, 2 on a bad flag,
// 128 + signal number when a second signal cuts the drain short.
import { constants } from "node:os";
import { describeError } from "../shared/errors.js";
import { createLogger, type LogFn, logFormatFor } from "../shared/log/json-log.js";
import { listeningLine, readyLine } from "../shared/protocol/listening-line.js";
import { UsageError } from "../shared/usage-error.js";
import type { Engine } from "./engine.js";
import { HeartbeatSender } from "./heartbeat.js";
import { unpatchedSchedulingWarning } from "./llama-scheduling-patch.js";
import { WORKER_SECRET_ENV } from "../shared/protocol/worker-launch.js";
import { parseWorkerOptions, readWorkerSecret, USAGE, wantsHelp, type WorkerOptions } from "./options.js";
import { WorkerServer } from "./server.js";
import { WorkerStatus } from "./worker-status.js";

/** How long in-flight requests may run after SIGTERM before their connections are cut, in ms. */
const DRAIN_TIMEOUT_MS = 30_000;
/**
 * How long the worker waits for a hive to answer on its channel before it stops, in ms: a hive's
 * restart takes seconds, and a worker whose hive is gone for good would hold its model's memory,
 * which no hive lists, until someone found its pid.
 */
const ORPHAN_AFTER_MS = 10 * 60_000;

// stdout carries only machine-readable events for supervisors; the log goes to stderr (the hive
// sends it to the worker's log file): JSON lines, or readable lines on a terminal.
const logger = createLogger({ role: "worker", format: logFormatFor(process.stderr, process.env), write: (line) => process.stderr.write(`${line}\n`) });
const log: LogFn = (msg, fields) => logger.info(msg, { pid: process.pid, ...fields });

function readOptions(argv: readonly string[]): WorkerOptions & { secret: string } {
  if (wantsHelp(argv)) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  try {
    const options = { ...parseWorkerOptions(argv), secret: readWorkerSecret(process.env) };
    // Whatever this process starts (node-llama-cpp probes GPUs with tools) has no use for it.
    delete process.env[WORKER_SECRET_ENV];
    return options;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  const status = new WorkerStatus({ workerId: options.workerId, model: options.modelName, port: options.port });
  const heartbeat =
    options.hiveChannel === undefined
      ? undefined
      : new HeartbeatSender({
          hiveChannel: options.hiveChannel,
          heartbeatIntervalMs: options.heartbeatIntervalMs,
          read: () => status.heartbeat(),
          log,
          orphanAfterMs: ORPHAN_AFTER_MS,
          onOrphaned: (unansweredMs) => {
            if (!stopping) beginShutdown(`no hive has answered on ${options.hiveChannel} for ${Math.round(unansweredMs / 60_000)} min: its hive is gone (or one of another run folder took its place)`);
          },
        });
  status.onChange(() => heartbeat?.stateMaybeChanged(status.state));
  heartbeat?.start();

  let engine: Engine | undefined;
  let stopping = false;
  // A stop during loading ends the load: the process cannot exit while llama.cpp's loading thread runs.
  const loading = new AbortController();
  const server = new WorkerServer({
    engine: () => engine,
    loadProgress: () => status.loadedFraction,
    modelName: options.modelName,
    workerId: options.workerId,
    port: options.port,
    secret: options.secret,
    state: () => status.state,
    log,
  });

  /** Sends the last heartbeat (delivered or given up on) and stops heartbeats. */
  const finalHeartbeat = async (): Promise<void> => {
    await heartbeat?.sendNow();
    heartbeat?.stop();
  };

  const shutdown = async (): Promise<void> => {
    loading.abort(new Error("the worker is stopping"));
    status.setPhase("draining");
    await server.close(DRAIN_TIMEOUT_MS);
    status.setPhase("stopped");
    await finalHeartbeat();
    await engine?.dispose();
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log(`second ${signal}: exiting without waiting for requests`);
      process.exit(128 + constants.signals[signal]);
    }
    beginShutdown(signal);
  };
  function beginShutdown(why: string): void {
    stopping = true;
    log(`${why}: finishing in-flight requests (at most ${DRAIN_TIMEOUT_MS} ms), then exiting`);
    shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`shutdown failed: ${describeError(error)}`);
        process.exit(1);
      },
    );
  }
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  const failStartup = async (reason: string): Promise<never> => {
    status.setPhase("failed", reason);
    logger.error(reason, { pid: process.pid, worker_id: options.workerId });
    await finalHeartbeat();
    await engine?.dispose();
    process.exit(1);
  };

  try {
    await server.listen();
  } catch (error) {
    return failStartup(`could not listen on 127.0.0.1:${options.port}: ${describeError(error)}`);
  }
  if (stopping) return;
  process.stdout.write(`${listeningLine(options.port)}\n`);
  log(`listening on 127.0.0.1:${options.port}; loading ${options.modelPath}`, { worker_id: options.workerId, model: options.modelName, port: options.port });

  try {
    // Imported only now: node-llama-cpp takes seconds to import, and by then the flags are checked,
    // the worker listens, the hive has heard "loading" and SIGTERM is handled.
    const { Engine } = await import("./engine.js");
    if (stopping) return;
    engine = await Engine.load({
      modelPath: options.modelPath,
      gpu: options.gpu,
      gpuLayers: options.gpuLayers,
      threads: options.threads,
      contextSize: options.contextSize,
      parallel: options.parallel,
      maxQueue: options.maxQueue,
      batchSize: options.batchSize,
      llamaBuild: options.llamaBuild,
      pollUs: options.pollUs,
      metricsIntervalMs: options.heartbeatIntervalMs,
      log,
      onLoadProgress: (progress) => status.setLoadProgress(progress),
      loadSignal: loading.signal,
      onSlotsChange: () => status.changed(),
    });
  } catch (error) {
    // A signal during loading already runs shutdown(), which exits 0 once the drain is done.
    if (stopping) return;
    return failStartup(`could not load model ${options.modelPath}: ${describeError(error)}`);
  }
  // shutdown() disposes the engine just assigned; serving now would race it.
  if (stopping) return;
  status.attachEngine(engine);
  status.setPhase("ready");
  process.stdout.write(`${readyLine(options.port)}\n`);
  log(`model loaded; serving ${options.modelName}`, { worker_id: options.workerId, model: options.modelName, port: options.port, device: engine.device, poll_us: engine.pollUs });
  const unpatched = await unpatchedSchedulingWarning(options.parallel);
  if (unpatched) logger.warn(unpatched, { pid: process.pid, worker_id: options.workerId });
}

await main();
