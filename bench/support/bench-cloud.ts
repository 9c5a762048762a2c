// The whole local cloud for the relay benchmarks (bench/relay.ts, bench/streams.ts): the real
// queen in workerd, a real hive process and one hive-spawned worker per model, in a temp folder.
// Besides the queen's URL it hands out each worker's own URL and secret (recomputed from the
// hive's key, as the hive does), so the same request can go direct and through the queen.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { hiveKeyPath, WorkerSecrets } from "../../hive/workers/worker-secrets.js";
import { writeTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import { modelNameFromSource } from "../../shared/models/model-name.js";
import { type HiveProcess, startHiveProcess } from "../../scripts/local-cloud/hive-process.js";
import { type LocalQueen, startLocalQueen } from "../../scripts/local-cloud/queen.js";
import { QueenClient } from "../../scripts/local-cloud/queen-client.js";
import { childPidsMatching } from "./process-cpu.js";
import type { ChatTarget } from "./timed-chat.js";

const ADMIN_KEY = "rbee_sk_relay_bench";
const HIVE_NAME = "bench";
/** How long a worker may take to load its model, ms; a loaded 2-core machine is slow. */
const WORKER_READY_TIMEOUT_MS = 180_000;
/** Lines of the hive's log kept to explain a failed start. */
const HIVE_LOG_LINES = 40;

export const TINY_MODEL = "rbee-tiny";

export interface BenchCloudOptions {
  /** GGUF files to serve besides the tiny model; each is served under its file name, as `npm start` names it. */
  modelPaths: readonly string[];
  /** CPU threads per worker (the hive's --worker-threads). */
  workerThreads: number;
  /** Slots per worker (the hive's --worker-parallel). */
  workerParallel: number;
  /**
   * The tiny model's trained context, which is each slot's context: many slots of the default
   * 4,096 tokens take a loaded machine longer to allocate than a loading worker may stay silent.
   */
  tinyContextLength?: number;
}

export interface BenchModel {
  /** The name clients send as `model`. */
  name: string;
  /** The file, for the printed facts. */
  path: string;
  workerId: string;
  /** The worker itself, with the secret the hive sends it. */
  direct: ChatTarget;
}

export class BenchCloud {
  static async start(options: BenchCloudOptions): Promise<BenchCloud> {
    const dir = await mkdtemp(join(tmpdir(), "rbee-bench-relay-"));
    const hiveLog: string[] = [];
    let queen: LocalQueen | undefined;
    let hive: HiveProcess | undefined;
    try {
      const tinyPath = join(dir, `${TINY_MODEL}.gguf`);
      await writeTinyLlamaGguf(tinyPath, options.tinyContextLength === undefined ? {} : { contextLength: options.tinyContextLength });
      queen = await startLocalQueen({ persistDir: join(dir, "queen"), adminKey: ADMIN_KEY, port: 0 });
      const client = new QueenClient(queen.url, ADMIN_KEY);
      const { token } = await client.createHive(HIVE_NAME);
      const cacheDir = join(dir, "cache");
      const runDir = join(dir, "run");
      hive = startHiveProcess({
        queenUrl: queen.url,
        name: HIVE_NAME,
        token,
        workerThreads: options.workerThreads,
        workerParallel: options.workerParallel,
        cacheDir,
        runDir,
        stopWorkersOnExit: true,
        onLine: (line) => {
          hiveLog.push(line);
          if (hiveLog.length > HIVE_LOG_LINES) hiveLog.shift();
        },
      });
      await hive.welcomed;
      const secrets = await WorkerSecrets.load(hiveKeyPath(runDir, HIVE_NAME));
      const files = [{ name: TINY_MODEL, path: tinyPath }, ...options.modelPaths.map((path) => ({ name: modelNameFromSource(pathToFileURL(path).href), path }))];
      const models: BenchModel[] = [];
      for (const file of files) {
        const worker = await client.spawnWorker({ hive: HIVE_NAME, model: file.name, source: pathToFileURL(file.path).href });
        await client.waitForWorkerReady(worker.id, WORKER_READY_TIMEOUT_MS);
        const direct = { baseUrl: `http://127.0.0.1:${worker.port}`, authorization: `Bearer ${secrets.secretFor(worker.id)}` };
        models.push({ ...file, workerId: worker.id, direct });
      }
      return new BenchCloud(dir, queen, hive, models);
    } catch (error) {
      await hive?.stop();
      await queen?.dispose();
      await rm(dir, { recursive: true, force: true });
      throw new Error(`${error instanceof Error ? error.message : String(error)}\nhive log:\n${hiveLog.join("\n")}`, { cause: error });
    }
  }

  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly dir: string,
    private readonly queen: LocalQueen,
    private readonly hive: HiveProcess,
    /** The tiny model first, then the --model files in order. */
    readonly models: readonly BenchModel[],
  ) {}

  /** The processes whose CPU the relay costs: the queen's workerd (Miniflare's child) and the hive (not its workers). */
  get relayProcesses(): { queen: number[]; hive: number[] } {
    return { queen: childPidsMatching("workerd"), hive: [this.hive.pid] };
  }

  /** The queen (on Miniflare, as `npm start` serves it) with the admin key. */
  get viaQueen(): ChatTarget {
    return { baseUrl: this.queen.url, authorization: `Bearer ${ADMIN_KEY}` };
  }

  /** Stops the hive (and with it its workers) and the queen, and removes the temp folder. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.hive.stop();
      await this.queen.dispose();
      await rm(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }
}
