// Test support: the whole local cloud for real — queen in workerd, a hive process, a worker
// process with the tiny model — in a temp folder, torn down after the suite.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import OpenAI from "openai";
import { expect } from "vitest";
import { writeTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import { writeTinyRerankerGguf } from "../../shared/gguf/tiny-reranker.js";
import { type HiveProcess, startHiveProcess } from "../../scripts/local-cloud/hive-process.js";
import { type LocalQueen, startLocalQueen } from "../../scripts/local-cloud/queen.js";
import { QueenClient } from "../../scripts/local-cloud/queen-client.js";
import { isZombieStat, procStatFields } from "../../shared/proc-stat.js";
import { waitUntil } from "../../shared/wait-until.js";
export { waitUntil };

export const TINY_MODEL = "rbee-tiny";
/** The name tests give the tiny reranker (shared/gguf/tiny-reranker.ts), served from `rerankerSource`. */
export const TINY_RERANKER = "rbee-tiny-rerank";

export interface LocalCloud {
  dir: string;
  queen: LocalQueen;
  /** The queen's bootstrap admin key (RBEE_ADMIN_KEY): both scopes. */
  apiKey: string;
  client: QueenClient;
  readonly hive: HiveProcess;
  hiveLog: string[];
  modelSource: string;
  /** The tiny reranker's file: URL, for a worker of TINY_RERANKER. */
  rerankerSource: string;
  /** The hive's cache folder: its catalogs and worker logs. */
  cacheDir: string;
  /** The hive's run folder, the default `<cacheDir>/run`: its channel socket and worker key. */
  runDir: string;
  /** Stops the hive with `signal` (its workers stay up, being detached) and starts a new one. */
  restartHive(signal: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Stops the queen and starts a fresh one on the same port with the same state, as a deploy would. */
  restartQueen(): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalCloudOptions {
  heartbeatIntervalMs: number;
  hiveName: string;
  /** Default true, so a test's workers end with it; false to test re-attaching. */
  stopWorkersOnExit?: boolean;
  /** More environment for the hive process, e.g. HF_ENDPOINT for a fake hub. */
  hiveEnv?: Record<string, string>;
  /** More of the queen's vars, e.g. KEEP_ALIVE_SECONDS. */
  queenVars?: Record<string, string>;
  /** "log" to have the queen's console.log lines (its request log) on this process's console. */
  queenLogLevel?: "warn" | "log";
  /** The URL the hive connects to, given the queen's: a proxy in between, say. Default the queen's own. */
  hiveVia?: (queenUrl: string) => Promise<string>;
  /** Slots of each worker the hive spawns (`--worker-parallel`); default the worker's own, one. */
  workerParallel?: number;
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const dir = await mkdtemp(join(tmpdir(), "rbee-e2e-"));
  const modelPath = join(dir, "rbee-tiny.gguf");
  await writeTinyLlamaGguf(modelPath);
  const rerankerPath = join(dir, "rbee-tiny-rerank.gguf");
  await writeTinyRerankerGguf(rerankerPath);
  const apiKey = "rbee_sk_e2e_test_key";
  const queenOptions = {
    persistDir: join(dir, "queen"),
    adminKey: apiKey,
    port: 0,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    ...(options.queenVars === undefined ? {} : { vars: options.queenVars }),
    ...(options.queenLogLevel === undefined ? {} : { logLevel: options.queenLogLevel }),
  };
  let queen = await startLocalQueen(queenOptions);
  const client = new QueenClient(queen.url, apiKey);
  const { token } = await client.createHive(options.hiveName);
  const hiveLog: string[] = [];
  const cacheDir = join(dir, "cache");
  const hiveQueenUrl = options.hiveVia ? await options.hiveVia(queen.url) : undefined;
  const startHive = () =>
    startHiveProcess({
      queenUrl: hiveQueenUrl ?? queen.url,
      name: options.hiveName,
      token,
      workerThreads: 1,
      ...(options.workerParallel === undefined ? {} : { workerParallel: options.workerParallel }),
      cacheDir,
      stopWorkersOnExit: options.stopWorkersOnExit ?? true,
      ...(options.hiveEnv === undefined ? {} : { env: options.hiveEnv }),
      onLine: (line) => hiveLog.push(line),
    });
  let hive = startHive();
  const restartHive = async (signal: "SIGTERM" | "SIGKILL") => {
    if (signal === "SIGKILL") process.kill(hive.pid, "SIGKILL");
    await hive.stop();
    hive = startHive();
    await hive.welcomed;
  };
  const restartQueen = async () => {
    const port = Number(new URL(queen.url).port);
    await queen.dispose();
    queen = await startLocalQueen({ ...queenOptions, port });
  };
  const stop = async () => {
    await hive.stop();
    // Workers are detached and may outlive a hive that was told to leave them: end them here.
    for (const pid of await processesMentioning(dir)) process.kill(pid, "SIGKILL");
    await queen.dispose();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await hive.welcomed;
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${hiveLog.join("\n")}`);
  }
  return {
    dir,
    get queen() {
      return queen;
    },
    apiKey,
    client,
    get hive() {
      return hive;
    },
    hiveLog,
    modelSource: pathToFileURL(modelPath).href,
    rerankerSource: pathToFileURL(rerankerPath).href,
    cacheDir,
    runDir: join(cacheDir, "run"),
    restartHive,
    restartQueen,
    stop,
  };
}

/** The official OpenAI client pointed at the cloud's queen, with the admin key and no retries. */
export function openAiClient(cloud: LocalCloud): OpenAI {
  return new OpenAI({ baseURL: `${cloud.queen.url}/v1`, apiKey: cloud.apiKey, maxRetries: 0 });
}

/** Asks the tiny model a short question and expects an answer. */
export async function expectChatAnswered(cloud: LocalCloud): Promise<void> {
  const completion = await openAiClient(cloud).chat.completions.create({ model: TINY_MODEL, messages: [{ role: "user", content: "Still there?" }], max_tokens: 8 });
  expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
}

/** Whether `line` is the one a hive logs when a relayed request ends cancelled (the queen heard its client go). */
function cancelHeard(line: string): boolean {
  return /relayed request \S+ to worker \S+: cancelled/.test(line);
}

/**
 * Runs `leaveEarly` (a streamed request that reads a little, then hangs up) until the hive logs
 * that the queen cancelled it, at most `attempts` times, and says how many it took. Under load a
 * hang-up now and then goes unheard and that generation runs to its end. Not wrangler's dev proxy
 * alone: the queen on Miniflare directly, even on a direct socket with no entry worker, missed a
 * first attempt too (a likely cause: with no flow control the worker may have finished while the
 * client still read the queen's backlog). An attempt not heard within `waitMs` waits for the
 * worker to be idle again before the next. Throws when no attempt was heard.
 */
export async function cancelUntilHeard(cloud: LocalCloud, leaveEarly: () => Promise<void>, attempts = 3, waitMs = 10_000): Promise<number> {
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const before = cloud.hiveLog.filter(cancelHeard).length;
    await leaveEarly();
    const heard = await waitUntil(() => cloud.hiveLog.filter(cancelHeard).length > before, waitMs, "the hive to hear the cancel").then(
      () => true,
      () => false,
    );
    if (heard) return attempt;
    console.warn(`attempt ${attempt}: the queen never heard the client hang up; waiting for the worker to finish`);
    await waitUntil(async () => (await cloud.client.listWorkers()).every((worker) => worker.state !== "busy"), 120_000, "the worker to be idle", 500);
  }
  throw new Error(`the hive heard no cancel in ${attempts} attempts; hive log:\n${cloud.hiveLog.slice(-15).join("\n")}`);
}

/**
 * Whether a process with this pid still runs. A zombie does not: a worker stopped by a hive that
 * then exited is reparented to init and lingers as a zombie until init reaps it, which on a busy
 * machine can take a moment after the hive already (rightly) reported it stopped.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== "linux") return true;
  const fields = procStatFields(pid);
  return fields !== undefined && !isZombieStat(fields);
}

/** Pids of the processes whose command line mentions `text` (Linux: from /proc). */
export async function processesMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const commandLine = await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "");
    if (commandLine.includes(text)) pids.push(Number(name));
  }
  return pids;
}
