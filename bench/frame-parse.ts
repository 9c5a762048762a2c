// Benchmark: what checking a hive's frame costs, in workerd (where the queen's HiveSession parses
// every message) and in Node. The same messages, `JSON.parse` alone and the queen's own
// `parseFrame(HiveToQueenFrame, …)`, many times in one request of a Worker on Miniflare's workerd
// (the queen's compatibility date and flags) with its CPU read from /proc, and many times in this
// process with its CPU from process.cpuUsage. workerd's clock stands still while JavaScript runs,
// so the CPU is counted from outside. Prints figures and a final line, writes
// bench/results/frame-parse-<date>.json. Asserts nothing.
//
//   npm run bench -- frame-parse [--parses 100000] [--rounds 3]
import { join } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { unstable_readConfig } from "wrangler";
import { z } from "zod";
import { PROJECT_ROOT } from "../scripts/local-cloud/queen.js";
import { parseFrame } from "../shared/protocol/parse-frame.js";
import { HiveToQueenFrame } from "../shared/protocol/hive-frames.js";
import { integerFlag, parseFlags } from "./support/bench-options.js";
import { writeBenchResults } from "./support/bench-results.js";
import { streamEvent } from "./support/canned-answers.js";
import { formatMachineFacts, machineFacts } from "./support/machine-facts.js";
import { CpuMeter, newChildPidsMatching } from "./support/process-cpu.js";
import { percentile } from "./support/summary.js";

const USAGE = "Usage: npm run bench -- frame-parse [--parses <n, default 100000>] [--rounds <n, default 3>]";

const Flags = z.object({
  parses: integerFlag(1000, 10_000_000).default(100_000),
  rounds: integerFlag(1, 100).default(3),
});

/** A hive's most frequent message: a batch of one response_chunk carrying `events` stream events. */
function chunkMessage(events: number): string {
  const data = Array.from({ length: events }, (_, index) => streamEvent(index)).join("");
  return JSON.stringify({ type: "batch", frames: [{ type: "response_chunk", requestId: "req_0123456789abcdefABCDEF01", seq: 3, data }] });
}

const MESSAGES = { "1 event": chunkMessage(1), "30 events": chunkMessage(30) } as const;
type MessageName = keyof typeof MESSAGES;
const CHECKS = ["json", "frame"] as const;
type Check = (typeof CHECKS)[number];

/** Parses `message` `times` times with `check`; returns how many came out whole, so that nothing is optimised away. */
function parseMany(check: Check, message: string, times: number): number {
  let whole = 0;
  for (let i = 0; i < times; i++) {
    const parsed = check === "json" ? JSON.parse(message) : parseFrame(HiveToQueenFrame, message).ok;
    if (parsed) whole += 1;
  }
  return whole;
}

// The Worker runs this file's parseMany on the same messages, bundled with the queen's own modules.
const WORKER_SOURCE = `
import { parseFrame } from "../shared/protocol/parse-frame.ts";
import { HiveToQueenFrame } from "../shared/protocol/hive-frames.ts";
const MESSAGES = ${JSON.stringify(MESSAGES)};
${parseMany.toString()}
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const whole = parseMany(url.searchParams.get("check"), MESSAGES[url.searchParams.get("message")], Number(url.searchParams.get("times")));
    return new Response(String(whole));
  },
};`;

/** CPU a run of parses took, ms, and how many came out whole. */
interface ParseRun {
  cpuMs: number;
  whole: number;
}

async function startWorkerd(): Promise<{ parse(check: Check, message: MessageName, times: number): Promise<ParseRun>; dispose(): Promise<void> }> {
  const config = unstable_readConfig({ config: join(PROJECT_ROOT, "wrangler.toml") });
  const bundle = await build({
    stdin: { contents: WORKER_SOURCE, resolveDir: import.meta.dirname, loader: "js" },
    bundle: true,
    write: false,
    format: "esm",
    target: "es2024",
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*", "node:*"],
  });
  const startedWorkerd = newChildPidsMatching("workerd");
  const miniflare = new Miniflare({
    modules: true,
    script: bundle.outputFiles[0]?.text ?? "",
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
  });
  const url = await miniflare.ready;
  const pids = startedWorkerd();
  return {
    async parse(check, message, times) {
      const meter = new CpuMeter(pids);
      const response = await fetch(new URL(`/?check=${check}&message=${encodeURIComponent(message)}&times=${times}`, url));
      const whole = Number(await response.text());
      return { cpuMs: meter.elapsedMs(), whole };
    },
    dispose: () => miniflare.dispose(),
  };
}

function parseInNode(check: Check, message: MessageName, times: number): ParseRun {
  const start = process.cpuUsage();
  const whole = parseMany(check, MESSAGES[message], times);
  const used = process.cpuUsage(start);
  return { cpuMs: (used.user + used.system) / 1000, whole };
}

const options = parseFlags(process.argv.slice(2), { parses: { type: "string" }, rounds: { type: "string" } }, Flags, USAGE);
const facts = machineFacts();
console.log(formatMachineFacts(facts));
console.log(`${options.parses} parses per figure, ${options.rounds} rounds; workerd's CPU from /proc (10 ms ticks), Node's from process.cpuUsage\n`);

const workerd = await startWorkerd();
const runtimes = {
  workerd: (check: Check, message: MessageName, times: number) => workerd.parse(check, message, times),
  node: async (check: Check, message: MessageName, times: number) => parseInNode(check, message, times),
};
type Runtime = keyof typeof runtimes;
/** µs per message, one figure per round. */
const rounds: Record<string, number[]> = {};
try {
  for (let round = 0; round < options.rounds; round++) {
    for (const [runtime, parse] of Object.entries(runtimes)) {
      for (const message of Object.keys(MESSAGES) as MessageName[]) {
        for (const check of CHECKS) {
          await parse(check, message, Math.ceil(options.parses / 100)); // warm the JIT
          const { cpuMs, whole } = await parse(check, message, options.parses);
          if (whole !== options.parses) throw new Error(`${runtime} parsed ${whole} of ${options.parses} "${message}" messages whole with ${check}`);
          (rounds[`${runtime} ${message} ${check}`] ??= []).push((cpuMs * 1000) / options.parses);
        }
      }
    }
  }
} finally {
  await workerd.dispose();
}

const median = (values: number[]): number => percentile(values, 0.5);
const figures = Object.fromEntries(Object.entries(rounds).map(([key, values]) => [key, { medianUs: median(values), roundsUs: values }]));
/** What zod adds to JSON.parse a message, µs (medians). */
const zodAdds = (runtime: Runtime, message: MessageName): number => (figures[`${runtime} ${message} frame`]?.medianUs ?? Number.NaN) - (figures[`${runtime} ${message} json`]?.medianUs ?? Number.NaN);
const signed = (us: number): string => `${us >= 0 ? "+" : ""}${us.toFixed(1)}`;
for (const [key, { roundsUs }] of Object.entries(figures)) console.log(`${key.padEnd(26)} ${roundsUs.map((us) => us.toFixed(2).padStart(7)).join(" ")} µs a message`);
const summary = (Object.keys(runtimes) as Runtime[])
  .map((runtime) => `${runtime} ${(Object.keys(MESSAGES) as MessageName[]).map((message) => signed(zodAdds(runtime, message))).join("/")} µs`)
  .join(", ");
const file = await writeBenchResults("frame-parse", { machine: facts, options, figures });
console.log(`\nresults: ${file}`);
console.log(`frame-parse: zod over JSON.parse a hive frame (1/30 events): ${summary}`);
