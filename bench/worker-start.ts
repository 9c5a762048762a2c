// Benchmark: how long a worker takes to start, bundled by esbuild from the worker catalog (as the
// hive starts it now) against `node --import tsx worker/main.ts` (as it did before), on the tiny
// model. Also times the local build itself. Prints figures, asserts nothing.
//
//   node --import tsx bench/worker-start.ts [--runs 6]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WorkerLaunch } from "../hive/processes/spawn-worker.js";
import { writeTinyLlamaGguf } from "../shared/gguf/tiny-llama.js";
import { wantsHelp } from "./support/bench-options.js";
import { HeartbeatRecorder } from "./support/heartbeat-recorder.js";
import { formatLoadAverage } from "./support/load-average.js";
import { buildLocalWorker } from "./support/local-worker-build.js";
import { roundOrder } from "./support/run-order.js";
import { parseStartOptions, START_USAGE, type StartOptions } from "./support/start-options.js";
import { formatRun, formatStartReport, STARTERS, type Starter, type StartRuns } from "./support/start-report.js";
import { timeWorkerStart, type StartTiming } from "./support/worker-start-timing.js";
import { TSX_LAUNCH } from "./support/worker-process.js";

/** One thread: on a 2-core machine llama.cpp's default oversubscribes the CPUs (see bench/README.md). */
const THREADS = 1;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(`${START_USAGE}\n`);
    return;
  }
  let options: StartOptions;
  try {
    options = parseStartOptions(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${START_USAGE}\n`);
    process.exitCode = 2;
    return;
  }

  // Ctrl-C reaches the workers too (same process group); this lets the finally below clean up.
  const interrupted = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => interrupted.abort(new Error(`interrupted by ${signal}`));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const signal = interrupted.signal;

  let tempDir: string | undefined;
  let recorder: HeartbeatRecorder | undefined;
  try {
    tempDir = await mkdtemp(join(tmpdir(), "rbee-bench-start-"));
    const modelPath = join(tempDir, "rbee-tiny.gguf");
    await writeTinyLlamaGguf(modelPath);
    process.stdout.write(
      `worker start: model rbee-tiny (generated), ${options.runs} runs per worker, ${THREADS} thread, cpu, node ${process.version}\n` +
        `load average before: ${formatLoadAverage()}\n`,
    );

    const build = await buildLocalWorker(join(tempDir, "cache"), signal);
    process.stdout.write(
      `local build: ${ms(build.installMs)} for installWorker(source local) into an empty catalog, ` +
        `of which ${ms(build.bundleMs)} fingerprinting and bundling (${build.worker.id}${size(build.worker.sizeBytes)})\n` +
        `catalog check the hive makes before each spawn (resolveWorker + localBuildStaleness): ${ms(build.catalogCheckMs)}, not in the figures below\n`,
    );

    const hive = (recorder = await HeartbeatRecorder.start());
    const launches: Record<Starter, WorkerLaunch> = { bundled: build.launch, tsx: TSX_LAUNCH };
    let started = 0;
    const timeStart = (starter: Starter): Promise<StartTiming> => {
      signal.throwIfAborted();
      started += 1;
      const workerId = `wrk_${starter}${started}`;
      return timeWorkerStart({ launch: launches[starter], modelPath, threads: THREADS, workerId, recorder: hive, signal });
    };

    // One warm-up each, not counted: the first start pays for cold file caches, and tsx for
    // transpiling worker/ into its on-disk cache, which a hive that has run before has warm.
    for (const starter of STARTERS) process.stdout.write(`${formatRun("warm-up", starter, await timeStart(starter))}\n`);

    const runs: StartRuns = { bundled: [], tsx: [] };
    for (let round = 0; round < options.runs; round++) {
      // Alternating which goes first, so load that comes and goes hits both alike.
      for (const starter of roundOrder(STARTERS, round)) {
        const timing = await timeStart(starter);
        runs[starter].push(timing);
        process.stdout.write(`${formatRun(`round ${round + 1}`, starter, timing)}\n`);
      }
    }
    process.stdout.write(`${formatStartReport(runs)}\nload average after: ${formatLoadAverage()}\n`);
  } finally {
    // Each worker is already stopped by timeWorkerStart, whether its start succeeded or failed.
    await recorder?.close();
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function size(bytes: number | null): string {
  return bytes === null ? "" : `, ${Math.round(bytes / 1024)} KiB`;
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

await main().catch((error: unknown) => {
  // A failed start already says why (the worker's stderr is in the message); a stack adds nothing.
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
