// Benchmark: one local queen (workerd) holding N simulated hives (in-process WebSocket clients
// with valid hive tokens), each running 4 workers the queen issued through real worker_spawn jobs
// and heartbeating them at the queen's interval. For each N it measures heartbeats sent per
// second, the latency of GET /v1/workers?hive_id=… and of a one-token chat request (placement and
// the relay through a simulated hive) while they beat, the RSS of the queen's workerd processes,
// its CPU while the hives only beat, and how long every hive takes to be back (all workers
// listed) after the queen restarts.
// Prints a table and writes bench/results/registry-<date>.json. Asserts nothing.
//
//   npm run bench -- registry [--hives 100,1000,2000] [--seconds 20]
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type LocalQueen, startLocalQueen } from "../scripts/local-cloud/queen.js";
import { DEFAULTS as QUEEN_DEFAULTS } from "../queen/config.js";
import { SERVER_TIMING_HEADER } from "../shared/openai/inference-headers.js";
import { waitUntil } from "../shared/wait-until.js";
import { writeBenchResults } from "./support/bench-results.js";
import { childPidsMatching, CpuMeter } from "./support/process-cpu.js";
import { formatMachineFacts, machineFacts } from "./support/machine-facts.js";
import { type HiveTally, SimulatedHive } from "./support/simulated-hive.js";
import { percentile } from "./support/summary.js";

const ADMIN_KEY = "rbee_sk_registry_bench";
const WORKERS_PER_HIVE = 4;
const MODELS = ["bench-a", "bench-b", "bench-c", "bench-d"];
/** How long every worker may take to be listed again after the queen restarts, ms. */
const RECONNECT_TIMEOUT_MS = 300_000;
/** Admin calls made at once while setting up (registrations, spawn jobs). */
const SETUP_CONCURRENCY = 16;

interface RunResult {
  hives: number;
  workers: number;
  setupSeconds: number;
  heartbeatsPerSecond: number;
  /** The hive frames that carried them (one worker_heartbeats frame per hive per interval, and at once for news). */
  heartbeatFramesPerSecond: number;
  refusedHeartbeats: Record<string, number>;
  listWorkers: LatencyFigures;
  chat: LatencyFigures;
  /** The Server-Timing `place` of those chat requests: the queen's Registry round trip. */
  place: LatencyFigures;
  queenRssMiB: number;
  /** The queen's workerd CPU while the hives only beat (nothing asked), % of one core, and per heartbeat frame, ms. */
  idleQueenCpu: { percentOfCore: number; msPerFrame: number };
  /** Null when not every worker was back within RECONNECT_TIMEOUT_MS. */
  reconnectSeconds: number | null;
}

interface LatencyFigures {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  /** The slowest sample: with few samples, p99 is close to it, so both are shown. */
  maxMs: number;
  failures: number;
}

function options(): { hives: number[]; seconds: number } {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { hives: { type: "string", default: "100" }, seconds: { type: "string", default: "20" } } });
  const hives = values.hives.split(",").map(Number);
  const seconds = Number(values.seconds);
  if (hives.some((n) => !Number.isInteger(n) || n < 1 || n > 10_000) || !Number.isInteger(seconds) || seconds < 1) {
    throw new Error("usage: npm run bench -- registry [--hives 100,1000,2000] [--seconds 20]");
  }
  return { hives, seconds };
}

async function admin(queen: LocalQueen, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(queen.url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Runs `task` over `items`, `concurrency` at a time. */
async function eachLimited<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

/** Workers the queen lists; -1 while it does not answer (restarting). */
async function liveWorkers(queen: LocalQueen): Promise<number> {
  try {
    const response = await admin(queen, "GET", "/v1/workers");
    return response.ok ? ((await response.json()) as { data: unknown[] }).data.length : -1;
  } catch {
    return -1;
  }
}

/** Times `call` back to back for `seconds`. */
async function timeCalls(seconds: number, call: () => Promise<boolean>): Promise<LatencyFigures> {
  const samples: number[] = [];
  let failures = 0;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const start = performance.now();
    const ok = await call().catch(() => false);
    if (ok) samples.push(performance.now() - start);
    else failures += 1;
  }
  return figures(samples, failures);
}

function figures(samples: number[], failures: number): LatencyFigures {
  const at = (q: number) => (samples.length === 0 ? Number.NaN : round(percentile(samples, q)));
  return { samples: samples.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1), failures };
}

/** The reconnect figure as printed: seconds, or that not every worker was back in time. */
function reconnectText(result: RunResult): string {
  return result.reconnectSeconds === null ? `over ${RECONNECT_TIMEOUT_MS / 1000}` : String(result.reconnectSeconds);
}

/** `place;dur=…` of a Server-Timing header, ms. */
function placeMsOf(response: Response): number | undefined {
  const match = /(?:^|,\s*)place;dur=([\d.]+)/.exec(response.headers.get(SERVER_TIMING_HEADER) ?? "");
  return match ? Number(match[1]) : undefined;
}

/** RSS of workerd processes started under this one (the local queen), MiB. */
function queenRssMiB(): number {
  const rows = execFileSync("ps", ["-eo", "pid=,ppid=,rss=,comm="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/));
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of rows) children.set(Number(ppid), [...(children.get(Number(ppid)) ?? []), Number(pid)]);
  const mine = new Set<number>();
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) if (!mine.has(child)) (mine.add(child), walk(child));
  };
  walk(process.pid);
  const kib = rows.filter(([pid, , , comm]) => mine.has(Number(pid)) && comm?.includes("workerd")).reduce((sum, [, , rss]) => sum + Number(rss), 0);
  return round(kib / 1024);
}

/** The queen's workerd CPU over `seconds` while the hives beat and nothing else asks it anything. */
async function idleCpu(seconds: number, tally: HiveTally): Promise<RunResult["idleQueenCpu"]> {
  const meter = new CpuMeter(childPidsMatching("workerd"));
  const framesBefore = tally.heartbeatFramesSent;
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const cpuMs = meter.elapsedMs();
  const frames = tally.heartbeatFramesSent - framesBefore;
  return { percentOfCore: round((cpuMs / (performance.now() - start)) * 100), msPerFrame: round((cpuMs / Math.max(1, frames)) * 100) / 100 };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

async function runOnce(hiveCount: number, seconds: number): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), "rbee-bench-registry-"));
  const vars = { RATE_LIMIT_PER_KEY: "0", RATE_LIMIT_PER_ADDRESS: "0" };
  const intervalMs = QUEEN_DEFAULTS.heartbeatIntervalMs;
  let queen = await startLocalQueen({ persistDir: dir, adminKey: ADMIN_KEY, port: 0, vars });
  const tally: HiveTally = { heartbeatsSent: 0, heartbeatFramesSent: 0, errors: new Map() };
  const hives: SimulatedHive[] = [];
  try {
    const setupStart = Date.now();
    const names = Array.from({ length: hiveCount }, (_, i) => `bench-hive-${i}`);
    await eachLimited(names, SETUP_CONCURRENCY, async (name) => {
      const { token } = (await (await admin(queen, "POST", "/v1/hives", { name })).json()) as { token: string };
      const hive = new SimulatedHive(queen.url, name, token, intervalMs, tally);
      hives.push(hive);
      await hive.connect();
    });
    process.stdout.write(`  ${hiveCount} hives connected in ${round((Date.now() - setupStart) / 1000)} s; spawning their workers\n`);
    const spawns = hives.flatMap((hive) => MODELS.slice(0, WORKERS_PER_HIVE).map((model) => ({ hive, model })));
    let spawned = 0;
    const progress = setInterval(() => process.stdout.write(`  ${spawned} of ${spawns.length} workers spawned\n`), 30_000);
    try {
      await eachLimited(spawns, SETUP_CONCURRENCY, async ({ hive, model }) => {
        // A job, not POST /v1/workers: the simulated hive answers it at once, so nothing waits on it.
        for (let attempt = 1; ; attempt++) {
          const response = await admin(queen, "POST", "/v1/jobs", { operation: "worker_spawn", hive: hive.name, model, source: "file:/bench/model.gguf" });
          if (response.status === 202) break;
          const text = await response.text();
          if (attempt === 3) throw new Error(`spawn on ${hive.name} answered ${response.status}: ${text}`);
          process.stdout.write(`  spawn on ${hive.name} answered ${response.status} (${text.slice(0, 120)}); again\n`);
        }
        spawned += 1;
      });
    } finally {
      clearInterval(progress);
    }
    const workers = hiveCount * WORKERS_PER_HIVE;
    await waitUntil(async () => (await liveWorkers(queen)) === workers, 120_000 + workers * 20, `all ${workers} workers to be listed`);
    const setupSeconds = round((Date.now() - setupStart) / 1000);
    process.stdout.write(`  ${hiveCount} hives, ${workers} workers up in ${setupSeconds} s; measuring for ${seconds} s\n`);

    const idleQueenCpu = await idleCpu(seconds / 4, tally);
    const beatsBefore = tally.heartbeatsSent;
    const beatFramesBefore = tally.heartbeatFramesSent;
    const measureStart = Date.now();
    const listWorkers = await timeCalls(seconds / 2, async () => {
      const hive = hives[Math.floor(Math.random() * hives.length)];
      const response = await admin(queen, "GET", `/v1/workers?hive_id=${hive?.name ?? ""}`);
      await response.arrayBuffer();
      return response.ok;
    });
    const placeSamples: number[] = [];
    const chat = await timeCalls(seconds / 2, async () => {
      const model = MODELS[Math.floor(Math.random() * WORKERS_PER_HIVE)];
      const response = await admin(queen, "POST", "/v1/chat/completions", { model, max_tokens: 1, messages: [{ role: "user", content: "hi" }] });
      await response.arrayBuffer();
      const placeMs = placeMsOf(response);
      if (response.ok && placeMs !== undefined) placeSamples.push(placeMs);
      return response.ok;
    });
    const place = figures(placeSamples, chat.samples - placeSamples.length);
    const measuredSeconds = (Date.now() - measureStart) / 1000;
    const heartbeatsPerSecond = round((tally.heartbeatsSent - beatsBefore) / measuredSeconds);
    const heartbeatFramesPerSecond = round((tally.heartbeatFramesSent - beatFramesBefore) / measuredSeconds);
    const rss = queenRssMiB();
    const stillListed = await liveWorkers(queen);
    if (stillListed !== workers) process.stdout.write(`  warning: ${stillListed} of ${workers} workers listed after measuring\n`);

    // Restart the queen on the same port and state; the hives reconnect on their own.
    const port = new URL(queen.url).port;
    await queen.dispose();
    const restartStart = Date.now();
    queen = await startLocalQueen({ persistDir: dir, adminKey: ADMIN_KEY, port: Number(port), vars });
    let reconnectSeconds: number | null = null;
    try {
      await waitUntil(async () => (await liveWorkers(queen)) === workers, RECONNECT_TIMEOUT_MS, `all ${workers} workers to be back after the restart`);
      reconnectSeconds = round((Date.now() - restartStart) / 1000);
    } catch {
      // Reported, not thrown: the figures measured before the restart still stand.
      process.stdout.write(`  only ${await liveWorkers(queen)} of ${workers} workers were back ${RECONNECT_TIMEOUT_MS / 1000} s after the restart\n`);
    }

    return {
      hives: hiveCount,
      workers,
      setupSeconds,
      heartbeatsPerSecond,
      heartbeatFramesPerSecond,
      refusedHeartbeats: Object.fromEntries(tally.errors),
      listWorkers,
      chat,
      place,
      queenRssMiB: rss,
      idleQueenCpu,
      reconnectSeconds,
    };
  } finally {
    for (const hive of hives) hive.close();
    await queen.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

function table(results: RunResult[]): string {
  const header = "| hives | workers | heartbeats/s (frames/s) | GET /v1/workers?hive_id p50/p99 ms | chat (place + relay) p50/p99 ms | placement p50/p99 ms | queen RSS MiB | queen CPU while hives only beat | reconnect after restart s | errors |";
  const rows = results.map((r) =>
    [r.hives, r.workers, `${r.heartbeatsPerSecond} (${r.heartbeatFramesPerSecond})`, `${r.listWorkers.p50Ms} / ${r.listWorkers.p99Ms}`, `${r.chat.p50Ms} / ${r.chat.p99Ms}`, `${r.place.p50Ms} / ${r.place.p99Ms} (max ${r.place.maxMs}, n ${r.place.samples})`, r.queenRssMiB, `${r.idleQueenCpu.percentOfCore}% of a core (${r.idleQueenCpu.msPerFrame} ms a frame)`, reconnectText(r), JSON.stringify(r.refusedHeartbeats)].join(" | "),
  );
  return [header, "|---|---|---|---|---|---|---|---|---|---|", ...rows.map((row) => `| ${row} |`)].join("\n");
}

async function main(): Promise<void> {
  const { hives, seconds } = options();
  const facts = machineFacts();
  process.stdout.write(`registry bench\n${formatMachineFacts(facts)}\n`);
  const results: RunResult[] = [];
  for (const n of hives) {
    process.stdout.write(`registry bench: ${n} hives\n`);
    results.push(await runOnce(n, seconds));
  }
  process.stdout.write(`\n${table(results)}\n`);
  process.stdout.write(`wrote ${await writeBenchResults("registry", { machine: facts, seconds, results })}\n`);
  process.stdout.write(
    `registry: ${results.map((r) => `${r.hives} hives ${r.heartbeatsPerSecond} beats/s in ${r.heartbeatFramesPerSecond} frames/s, placement p50 ${r.place.p50Ms} p99 ${r.place.p99Ms} max ${r.place.maxMs} ms of ${r.place.samples}, chat p99 ${r.chat.p99Ms} ms, idle queen CPU ${r.idleQueenCpu.percentOfCore}% of a core, reconnect ${reconnectText(r)} s`).join("; ")}\n`,
  );
}

await main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
