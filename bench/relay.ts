// Benchmark: what the queen and the hive add to a request, measured as the same requests made
// direct to the worker and through the queen, interleaved in one run on one local cloud (queen in
// workerd, a hive process, hive-spawned workers with 1 thread). Per model: added p50/p90/p99 of
// non-streaming requests, added time to first token of streams, and streaming tokens/s through
// the queen ÷ direct, and the CPU the queen's workerd and the hive spent per request and per
// stream; the same figures for a bare one-hop proxy in front of the worker (support/bare-proxy.ts),
// interleaved with the other two, as the yardstick of what any hop costs on the machine; with
// --load all of it again while a second stream keeps the worker busy. First it warms
// every path up (--warmup), so that the figures are those of processes that have been serving.
// Prints figures and a final line, writes bench/results/relay-<date>.json. Asserts nothing.
//
//   npm run bench -- relay [--model <file.gguf>]… [--requests 60] [--streams 12] [--stream-tokens 200] [--warmup 1000] [--load]
import { z } from "zod";
import { integerFlag, parseFlags } from "./support/bench-options.js";
import { startBareProxy } from "./support/bare-proxy.js";
import { BenchCloud, type BenchModel } from "./support/bench-cloud.js";
import { chargeCpu, type PathCpu, type PathProcesses } from "./support/process-cpu.js";
import { writeBenchResults } from "./support/bench-results.js";
import { formatLoadAverage } from "./support/load-average.js";
import { formatMachineFacts, machineFacts } from "./support/machine-facts.js";
import { roundOrder } from "./support/run-order.js";
import { percentile } from "./support/summary.js";
import { type ChatBody, type ChatTarget, TimedChatClient, type TimedStream } from "./support/timed-chat.js";
import { DEFAULT_WARMUP_ROUNDS, warmUp } from "./support/warm-up.js";

const USAGE = `Usage: npm run bench -- relay [--model <file.gguf>]… [--requests <n, default 60>] [--streams <n, default 12>]
  [--stream-tokens <n, default 200>] [--threads <n, default 1>] [--parallel <slots, default 2>] [--warmup <rounds, default ${DEFAULT_WARMUP_ROUNDS}>] [--load]`;

/** Tokens of every non-streaming request, as the issue measures them. */
const NON_STREAM_TOKENS = 16;
/** The --load stream's length; it is started again whenever it ends. */
const LOAD_STREAM_TOKENS = 3000;
/** The worker itself, the worker behind a bare proxy, and the worker through the queen and its hive. */
const PATHS = ["direct", "proxy", "queen"] as const;
type Path = (typeof PATHS)[number];

const Flags = z.object({
  model: z.array(z.string().min(1, "expected a path to a .gguf file")).default([]),
  requests: integerFlag(2, 100_000).default(60),
  streams: integerFlag(2, 10_000).default(12),
  "stream-tokens": integerFlag(2, 3000).default(200),
  threads: integerFlag(1, 1024).default(1),
  // Slots per worker: by default one for the measured request and one for the --load stream
  // beside it; 1 is npm start's default, where every request takes the worker's only slot.
  parallel: integerFlag(1, 64).default(2),
  warmup: integerFlag(0, 1_000_000).default(DEFAULT_WARMUP_ROUNDS),
  load: z.boolean().default(false),
}).refine((flags) => !flags.load || flags.parallel >= 2, { message: "--load needs --parallel 2 or more: a slot for the stream that keeps the worker busy", path: ["load"] });
type Options = z.output<typeof Flags>;

interface PhaseFigures {
  model: string;
  load: boolean;
  nonStream: { direct: Quantiles; queen: Quantiles; added: Quantiles };
  firstTokenMs: { direct: Quantiles; queen: Quantiles; added: Quantiles };
  /** Request start to last byte: what the relay adds up front counts too. */
  tokensPerSecond: { direct: number; queen: number; ratio: number };
  /** The tokens after the first over first token to last byte: the stream's own pace, without its start. */
  tokensPerSecondAfterFirst: { direct: number; queen: number; ratio: number };
  tokensPerStream: { direct: number; queen: number };
  /** CPU the queen's workerd and the hive spent per request through the queen, and the proxy per proxied one, ms. */
  cpuMs: { perRequest: PathCpu; perStream: PathCpu };
  /** What the bare proxy added in the same rounds, the same way (support/bare-proxy.ts). */
  bareProxy: { added: Quantiles; firstTokenAdded: Quantiles; tokensPerSecondRatio: number; tokensPerSecondAfterFirstRatio: number };
}

interface Quantiles {
  p50: number;
  p90: number;
  p99: number;
}

function parseOptions(): Options {
  const flags = {
    model: { type: "string", multiple: true },
    requests: { type: "string" },
    streams: { type: "string" },
    "stream-tokens": { type: "string" },
    threads: { type: "string" },
    parallel: { type: "string" },
    warmup: { type: "string" },
    load: { type: "boolean" },
  } as const;
  return parseFlags(process.argv.slice(2), flags, Flags, USAGE);
}

function messages(round: number, path: Path | "load"): ChatBody["messages"] {
  // A different question each round and path, of the same length: the worker keeps each slot's
  // last prompt, and a request asking what the one before it asked skips evaluating it. With one
  // question per round, whichever path went second was served from the first one's prompt (on a
  // CPU-bound model ~35 ms sooner), and the added figures swung with the rounds' order.
  const tag = { direct: "d", proxy: "p", queen: "q", load: "l" }[path];
  return [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: `Tell me story number ${round}${tag} about a bee that builds a hive.` },
  ];
}

function quantiles(samples: readonly number[]): Quantiles {
  return { p50: percentile(samples, 0.5), p90: percentile(samples, 0.9), p99: percentile(samples, 0.99) };
}

function difference(a: Quantiles, b: Quantiles): Quantiles {
  return { p50: a.p50 - b.p50, p90: a.p90 - b.p90, p99: a.p99 - b.p99 };
}

/** Runs `round` for every path, `rounds` times, each round taking the next order of the paths. */
async function interleaved<T>(rounds: number, round: (path: Path, index: number) => Promise<T>): Promise<Record<Path, T[]>> {
  const results: Record<Path, T[]> = { direct: [], proxy: [], queen: [] };
  for (let index = 0; index < rounds; index++) {
    for (const path of roundOrder(PATHS, index)) results[path].push(await round(path, index));
  }
  return results;
}

async function measure(
  client: TimedChatClient,
  model: BenchModel,
  targets: Record<Path, ChatTarget>,
  processes: PathProcesses,
  options: Options,
  load: boolean,
): Promise<PhaseFigures> {
  const body = (path: Path, round: number, maxTokens: number): ChatBody => ({ model: model.name, messages: messages(round, path), max_tokens: maxTokens, temperature: 0 });
  // The first requests pay for connections, the Durable Objects' start, cold caches and code V8
  // has not optimised yet (support/warm-up.ts); --warmup 0 times processes just started. The
  // --load phase comes after a warm one on the same worker and needs only its stream.
  const warmupPaths = PATHS.map((path) => ({ target: targets[path], body: (round: number, maxTokens: number) => body(path, round, maxTokens) }));
  await warmUp(client, warmupPaths, load ? 0 : options.warmup, options["stream-tokens"]);
  // Each path's requests cost only its own processes: the direct ones none of these, the proxied
  // ones the proxy's, and those through the queen the queen's and the hive's.
  const { result: nonStream, cpu: perRequest } = await chargeCpu(processes, options.requests, () =>
    interleaved(options.requests, async (path, i) => (await client.complete(targets[path], body(path, i, NON_STREAM_TOKENS))).ms),
  );
  const { result: streams, cpu: perStream } = await chargeCpu(processes, options.streams, () =>
    interleaved(options.streams, (path, i) => client.stream(targets[path], body(path, i, options["stream-tokens"]))),
  );
  const rate = (stream: TimedStream) => stream.tokens / (stream.ms / 1000);
  const rateAfterFirst = (stream: TimedStream) => (stream.tokens - 1) / ((stream.ms - stream.firstTokenMs) / 1000);
  const median = (samples: number[]) => percentile(samples, 0.5);
  const nonStreamDirect = quantiles(nonStream.direct);
  const nonStreamQueen = quantiles(nonStream.queen);
  const ttftDirect = quantiles(streams.direct.map((s) => s.firstTokenMs));
  const ttftQueen = quantiles(streams.queen.map((s) => s.firstTokenMs));
  const directRate = median(streams.direct.map(rate));
  const queenRate = median(streams.queen.map(rate));
  const directPace = median(streams.direct.map(rateAfterFirst));
  const queenPace = median(streams.queen.map(rateAfterFirst));
  const ttftProxy = quantiles(streams.proxy.map((s) => s.firstTokenMs));
  return {
    model: model.name,
    load,
    nonStream: { direct: nonStreamDirect, queen: nonStreamQueen, added: difference(nonStreamQueen, nonStreamDirect) },
    firstTokenMs: { direct: ttftDirect, queen: ttftQueen, added: difference(ttftQueen, ttftDirect) },
    tokensPerSecond: { direct: directRate, queen: queenRate, ratio: queenRate / directRate },
    tokensPerSecondAfterFirst: { direct: directPace, queen: queenPace, ratio: queenPace / directPace },
    tokensPerStream: { direct: median(streams.direct.map((s) => s.tokens)), queen: median(streams.queen.map((s) => s.tokens)) },
    cpuMs: { perRequest, perStream },
    bareProxy: {
      added: difference(quantiles(nonStream.proxy), nonStreamDirect),
      firstTokenAdded: difference(ttftProxy, ttftDirect),
      tokensPerSecondRatio: median(streams.proxy.map(rate)) / directRate,
      tokensPerSecondAfterFirstRatio: median(streams.proxy.map(rateAfterFirst)) / directPace,
    },
  };
}

/** Streams to the worker directly, one stream after another, until stopped: a busy core beside the measured requests. */
function keepBusy(client: TimedChatClient, model: BenchModel): { stop: () => Promise<void> } {
  let stopped = false;
  const body = { model: model.name, messages: messages(-1, "load"), max_tokens: LOAD_STREAM_TOKENS, temperature: 1, seed: 7 };
  const running = (async () => {
    while (!stopped) await client.stream(model.direct, body);
  })();
  return {
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

function ms(value: number): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(1)}`;
}

function formatPhase(figures: PhaseFigures): string {
  const { nonStream: n, firstTokenMs: t, tokensPerSecond: r, tokensPerSecondAfterFirst: pace, bareProxy: bare } = figures;
  return [
    `${figures.model}${figures.load ? ", worker busy with a second stream" : ""}:`,
    `  non-streaming, ${NON_STREAM_TOKENS} tokens, ms   p50 / p90 / p99: direct ${n.direct.p50.toFixed(1)} / ${n.direct.p90.toFixed(1)} / ${n.direct.p99.toFixed(1)}` +
      `   queen ${n.queen.p50.toFixed(1)} / ${n.queen.p90.toFixed(1)} / ${n.queen.p99.toFixed(1)}   added ${ms(n.added.p50)} / ${ms(n.added.p90)} / ${ms(n.added.p99)}`,
    `  time to first token, ms      p50 / p90:        direct ${t.direct.p50.toFixed(1)} / ${t.direct.p90.toFixed(1)}   queen ${t.queen.p50.toFixed(1)} / ${t.queen.p90.toFixed(1)}   added ${ms(t.added.p50)} / ${ms(t.added.p90)}`,
    `  streaming tokens/s (median):                   direct ${r.direct.toFixed(0)}   queen ${r.queen.toFixed(0)}   queen ÷ direct ${r.ratio.toFixed(2)}` +
      `   (tokens per stream ${figures.tokensPerStream.direct} / ${figures.tokensPerStream.queen})`,
    `  after the first token (median):                direct ${pace.direct.toFixed(0)}   queen ${pace.queen.toFixed(0)}   queen ÷ direct ${pace.ratio.toFixed(2)}`,
    `  CPU through the queen, ms:                     per request: queen ${figures.cpuMs.perRequest.queen.toFixed(1)}, hive ${figures.cpuMs.perRequest.hive.toFixed(1)}` +
      `   per stream: queen ${figures.cpuMs.perStream.queen.toFixed(1)}, hive ${figures.cpuMs.perStream.hive.toFixed(1)}`,
    `  CPU through the bare proxy, ms:                per request: ${figures.cpuMs.perRequest.proxy.toFixed(1)}   per stream: ${figures.cpuMs.perStream.proxy.toFixed(1)}`,
    `  a bare one-hop proxy adds, ms:                 p50 / p90 / p99 ${ms(bare.added.p50)} / ${ms(bare.added.p90)} / ${ms(bare.added.p99)}` +
      `   time to first token ${ms(bare.firstTokenAdded.p50)}   tokens/s ×${bare.tokensPerSecondRatio.toFixed(2)} (after the first ×${bare.tokensPerSecondAfterFirstRatio.toFixed(2)})`,
  ].join("\n");
}

function finalLine(phases: readonly PhaseFigures[]): string {
  return `relay: ${phases
    .map(
      (p) =>
        `${p.model}${p.load ? "+load" : ""} added p50 ${ms(p.nonStream.added.p50)} p99 ${ms(p.nonStream.added.p99)} ms, ttft ${ms(p.firstTokenMs.added.p50)} ms, ` +
        `tok/s ×${p.tokensPerSecond.ratio.toFixed(2)} (after the first ×${p.tokensPerSecondAfterFirst.ratio.toFixed(2)}), CPU/request queen ${p.cpuMs.perRequest.queen.toFixed(1)} + hive ${p.cpuMs.perRequest.hive.toFixed(1)} ms ` +
        `(a bare proxy: added p50 ${ms(p.bareProxy.added.p50)} ms, ttft ${ms(p.bareProxy.firstTokenAdded.p50)} ms, tok/s ×${p.bareProxy.tokensPerSecondRatio.toFixed(2)}, CPU/request ${p.cpuMs.perRequest.proxy.toFixed(1)} ms)`,
    )
    .join("; ")}`;
}

async function main(): Promise<void> {
  const options = parseOptions();
  const facts = machineFacts();
  process.stdout.write(`relay bench\n${formatMachineFacts(facts)}\n`);
  const workerOptions = { workerThreads: options.threads, workerParallel: options.parallel };
  const cloud = await BenchCloud.start({ modelPaths: options.model, ...workerOptions });
  const client = new TimedChatClient();
  const phases: PhaseFigures[] = [];
  try {
    process.stdout.write(
      `models: ${cloud.models.map((m) => `${m.name} (${m.path})`).join(", ")}\n` +
        `workers: --threads ${options.threads} --parallel ${options.parallel}, cpu; ${options.requests} non-streaming requests and ${options.streams} streams of ` +
        `${options["stream-tokens"]} tokens per path after ${options.warmup} warm-up rounds, greedy, direct, bare proxy and queen interleaved; the queen on Miniflare, as npm start serves it\n`,
    );
    for (const model of cloud.models) {
      const proxy = await startBareProxy(model.direct.baseUrl);
      try {
        const targets = { direct: model.direct, proxy: { ...model.direct, baseUrl: proxy.url }, queen: cloud.viaQueen };
        const processes = { ...cloud.relayProcesses, proxy: [proxy.pid] };
        phases.push(await measure(client, model, targets, processes, options, false));
        process.stdout.write(`${formatPhase(phases[phases.length - 1] as PhaseFigures)}\n`);
        if (!options.load) continue;
        const load = keepBusy(client, model);
        try {
          phases.push(await measure(client, model, targets, processes, options, true));
        } finally {
          await load.stop();
        }
        process.stdout.write(`${formatPhase(phases[phases.length - 1] as PhaseFigures)}\n`);
      } finally {
        await proxy.stop();
      }
    }
  } finally {
    client.close();
    await cloud.stop();
  }
  const file = await writeBenchResults("relay", { machine: facts, loadAverageAfter: formatLoadAverage(), options, worker: { ...workerOptions, gpu: "cpu" }, phases });
  process.stdout.write(`load average after: ${formatLoadAverage()}\nwrote ${file}\n${finalLine(phases)}\n`);
}

await main().catch((error: unknown) => {
  process.stderr.write(`relay bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
