// Benchmark: what the queen's own code costs on the relay path, apart from the hive, the worker and
// their contention for the CPU. The real local queen (workerd on Miniflare, as `npm start` serves
// it) relays to a simulated hive that answers at once, or --answer-after ms after each request as
// a worker takes time (support/simulated-hive.ts), against the floor: a Worker of the queen's
// shape with none of its code (support/queen-floor.ts), whose hive answers alike. Both in one run, in
// alternating rounds: non-streamed requests (latency and the workerd CPU per request) and streams
// of 1 and of --frames chunk frames, --gap ms apart (the CPU per stream and per frame). Prints
// figures and a final line, writes bench/results/queen-path-<date>.json. Asserts nothing.
//
//   npm run bench -- queen-path [--requests 200] [--streams 20] [--frames 21] [--gap 15] [--answer-after 0] [--rounds 6]
import http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_readConfig } from "wrangler";
import { z } from "zod";
import { DEFAULTS as QUEEN_DEFAULTS } from "../queen/config.js";
import { PROJECT_ROOT, startLocalQueen } from "../scripts/local-cloud/queen.js";
import { waitUntil } from "../shared/wait-until.js";
import { integerFlag, parseFlags } from "./support/bench-options.js";
import { writeBenchResults } from "./support/bench-results.js";
import type { AnswerTiming } from "./support/canned-answers.js";
import { formatLoadAverage } from "./support/load-average.js";
import { formatMachineFacts, machineFacts } from "./support/machine-facts.js";
import { CpuMeter, newChildPidsMatching } from "./support/process-cpu.js";
import { startQueenFloor } from "./support/queen-floor.js";
import { roundOrder } from "./support/run-order.js";
import { type HiveTally, SimulatedHive } from "./support/simulated-hive.js";
import { percentile } from "./support/summary.js";

const USAGE = `Usage: npm run bench -- queen-path [--requests <n, default 200>] [--streams <n, default 20>]
  [--frames <n, default 21>] [--gap <ms, default 15>] [--answer-after <ms, default 0>] [--rounds <n, default 6>]`;

const ADMIN_KEY = "rbee_sk_queen_path_bench";
const HIVE_NAME = "queen-path-hive";
const MODEL = "queen-path-model";
const PATHS = ["floor", "queen"] as const;
type Path = (typeof PATHS)[number];

const Flags = z.object({
  requests: integerFlag(10, 100_000).default(200),
  streams: integerFlag(2, 10_000).default(20),
  frames: integerFlag(2, 1000).default(21),
  gap: integerFlag(0, 1000).default(15),
  // As a real worker takes time to its first token: workerd then goes idle between the request and its answer.
  "answer-after": integerFlag(0, 10_000).default(0),
  rounds: integerFlag(1, 100).default(6),
});
type Options = z.output<typeof Flags>;

interface Target {
  url: URL;
  authorization?: string;
  /** The workerd processes behind it. */
  pids: number[];
  stop(): Promise<void>;
}

interface PathFigures {
  /** Non-streamed requests, pooled over the rounds, ms. */
  latencyMs: { p50: number; p99: number };
  /** Median over the rounds of the workerd CPU per request, ms. */
  cpuPerRequestMs: number;
  /** Median over the rounds of the workerd CPU per stream of one frame, ms. */
  cpuPerStreamMs: number;
  /** What each further frame of a stream adds, ms of workerd CPU. */
  cpuPerFrameMs: number;
}

function parseOptions(): Options {
  const flags = { requests: { type: "string" }, streams: { type: "string" }, frames: { type: "string" }, gap: { type: "string" }, "answer-after": { type: "string" }, rounds: { type: "string" } } as const;
  return parseFlags(process.argv.slice(2), flags, Flags, USAGE);
}

/** The real queen in a temp folder, with one simulated hive serving MODEL. */
async function startQueen(timing: AnswerTiming): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), "rbee-bench-queen-path-"));
  const startedWorkerd = newChildPidsMatching("workerd");
  const queen = await startLocalQueen({ persistDir: dir, adminKey: ADMIN_KEY, port: 0 });
  const pids = startedWorkerd();
  const admin = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(queen.url + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
    return response.json();
  };
  const tally: HiveTally = { heartbeatsSent: 0, heartbeatFramesSent: 0, errors: new Map() };
  let hive: SimulatedHive | undefined;
  try {
    const { token } = (await admin("POST", "/v1/hives", { name: HIVE_NAME })) as { token: string };
    hive = new SimulatedHive(queen.url, HIVE_NAME, token, QUEEN_DEFAULTS.heartbeatIntervalMs, tally, timing);
    await hive.connect();
    await admin("POST", "/v1/jobs", { operation: "worker_spawn", hive: HIVE_NAME, model: MODEL, source: "file:/bench/model.gguf" });
    await waitUntil(async () => ((await admin("GET", "/v1/workers")) as { data: unknown[] }).data.length > 0, 30_000, "the simulated hive's worker to be listed");
  } catch (error) {
    hive?.close();
    await queen.dispose();
    throw error;
  }
  const simulated = hive;
  return {
    url: new URL(`${queen.url}/v1/chat/completions`),
    authorization: `Bearer ${ADMIN_KEY}`,
    pids,
    async stop() {
      simulated.close();
      await queen.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function startFloor(timing: AnswerTiming): Promise<Target> {
  const config = unstable_readConfig({ config: join(PROJECT_ROOT, "wrangler.toml") });
  if (config.compatibility_date === undefined) throw new Error("wrangler.toml names no compatibility_date for the floor to share");
  const floor = await startQueenFloor({
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    timing,
  });
  return { url: new URL(`${floor.url}/v1/chat/completions`), pids: floor.pids, stop: () => floor.stop() };
}

/** One request on a kept-alive connection; resolves with its time to the last byte, ms. */
function post(agent: http.Agent, target: Target, stream: boolean, maxTokens: number): Promise<number> {
  const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "Tell me about bees." }], max_tokens: maxTokens, stream });
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const headers: Record<string, string> = { "content-type": "application/json", ...(target.authorization ? { authorization: target.authorization } : {}) };
    const request = http.request(target.url, { method: "POST", agent, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        if (response.statusCode === 200) resolve(performance.now() - startedAt);
        else reject(new Error(`${target.url.origin} answered ${response.statusCode}: ${Buffer.concat(chunks).toString("utf8").slice(0, 300)}`));
      });
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body);
  });
}

async function cpuPer(target: Target, count: number, call: () => Promise<unknown>): Promise<number> {
  const meter = new CpuMeter(target.pids);
  for (let i = 0; i < count; i++) await call();
  return meter.elapsedMs() / count;
}

function median(samples: readonly number[]): number {
  return percentile(samples, 0.5);
}

async function measure(targets: Record<Path, Target>, options: Options): Promise<Record<Path, PathFigures>> {
  const agents = { floor: new http.Agent({ keepAlive: true, maxSockets: 1 }), queen: new http.Agent({ keepAlive: true, maxSockets: 1 }) };
  const latency: Record<Path, number[]> = { floor: [], queen: [] };
  const cpu: Record<Path, { request: number[]; stream: number[]; longStream: number[] }> = {
    floor: { request: [], stream: [], longStream: [] },
    queen: { request: [], stream: [], longStream: [] },
  };
  try {
    // Warm-up: connections, the Durable Objects' start, the JIT.
    for (const path of PATHS) {
      for (let i = 0; i < 50; i++) await post(agents[path], targets[path], false, 16);
      for (let i = 0; i < 3; i++) await post(agents[path], targets[path], true, 3);
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const path of roundOrder(PATHS, round)) {
        const target = targets[path];
        const agent = agents[path];
        cpu[path].request.push(await cpuPer(target, options.requests, async () => latency[path].push(await post(agent, target, false, 16))));
        cpu[path].stream.push(await cpuPer(target, options.streams, () => post(agent, target, true, 1)));
        cpu[path].longStream.push(await cpuPer(target, options.streams, () => post(agent, target, true, options.frames)));
      }
      process.stdout.write(`  round ${round + 1} of ${options.rounds} done\n`);
    }
  } finally {
    for (const agent of Object.values(agents)) agent.destroy();
  }
  const figures = (path: Path): PathFigures => {
    const perStream = median(cpu[path].stream);
    return {
      latencyMs: { p50: percentile(latency[path], 0.5), p99: percentile(latency[path], 0.99) },
      cpuPerRequestMs: median(cpu[path].request),
      cpuPerStreamMs: perStream,
      cpuPerFrameMs: (median(cpu[path].longStream) - perStream) / (options.frames - 1),
    };
  };
  return { floor: figures("floor"), queen: figures("queen") };
}

function formatPath(name: string, figures: PathFigures): string {
  return (
    `  ${name.padEnd(6)} non-streamed p50 / p99 ${figures.latencyMs.p50.toFixed(2)} / ${figures.latencyMs.p99.toFixed(2)} ms, workerd CPU ${figures.cpuPerRequestMs.toFixed(2)} ms a request;` +
    `   a stream ${figures.cpuPerStreamMs.toFixed(2)} ms + ${figures.cpuPerFrameMs.toFixed(3)} ms a frame`
  );
}

async function main(): Promise<void> {
  const options = parseOptions();
  const facts = machineFacts();
  process.stdout.write(`queen-path bench\n${formatMachineFacts(facts)}\n`);
  process.stdout.write(
    `the real queen relaying to a simulated hive that answers ${options["answer-after"] > 0 ? `${options["answer-after"]} ms after each request` : "at once"}, against a floor Worker of its shape with none of its code; ` +
      `per path and round ${options.requests} non-streamed requests, ${options.streams} streams of 1 and of ${options.frames} frames ${options.gap} ms apart; ${options.rounds} rounds\n`,
  );
  const timing: AnswerTiming = { firstAfterMs: options["answer-after"], frameGapMs: options.gap };
  const floor = await startFloor(timing);
  let queen: Target | undefined;
  let results: Record<Path, PathFigures>;
  try {
    queen = await startQueen(timing);
    results = await measure({ floor, queen }, options);
  } finally {
    await queen?.stop();
    await floor.stop();
  }
  const { floor: f, queen: q } = results;
  process.stdout.write(`${formatPath("floor", f)}\n${formatPath("queen", q)}\n`);
  process.stdout.write(
    `  queen − floor: ${(q.latencyMs.p50 - f.latencyMs.p50).toFixed(2)} ms p50, ${(q.cpuPerRequestMs - f.cpuPerRequestMs).toFixed(2)} ms CPU a request, ` +
      `${(q.cpuPerStreamMs - f.cpuPerStreamMs).toFixed(2)} ms a stream, ${(q.cpuPerFrameMs - f.cpuPerFrameMs).toFixed(3)} ms a frame\n`,
  );
  process.stdout.write(`load average after: ${formatLoadAverage()}\n`);
  const file = await writeBenchResults("queen-path", { machine: facts, options, floor: f, queen: q });
  process.stdout.write(`wrote ${file}\n`);
  process.stdout.write(
    `queen-path: queen CPU/request ${q.cpuPerRequestMs.toFixed(2)} ms (floor ${f.cpuPerRequestMs.toFixed(2)}), p50 ${q.latencyMs.p50.toFixed(2)} ms (floor ${f.latencyMs.p50.toFixed(2)}), ` +
      `CPU/frame ${q.cpuPerFrameMs.toFixed(3)} ms (floor ${f.cpuPerFrameMs.toFixed(3)})\n`,
  );
}

await main();
process.exit(0);
