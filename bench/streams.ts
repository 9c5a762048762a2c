// Benchmark: many concurrent streams through one queen. For each concurrency (1, 8, 32, 64 by
// default) the same seeded requests run at once direct to the worker and through the queen, in
// --rounds alternating rounds after one direct warm-up round (which first touches the worker's
// slots and is not counted), all after --warmup rounds of one-token requests on both paths
// (support/warm-up.ts): aggregate tokens/s through the queen against direct, the CPU the
// queen's workerd and the hive spent per stream, the p99 gap between tokens, and how many tokens
// were lost, duplicated or reordered — each queen stream checked against the direct stream of the
// same seed and round; two direct rounds compared show how far the worker itself is
// deterministic under the same concurrency. As that drift blurs the comparison, each concurrency
// ends with --exact-rounds rounds per path of answers a grammar forces (test/support/forced-answers.ts),
// every stream checked piece by piece against the text it had to bring: the exact count of pieces
// lost, duplicated or reordered. One hive-spawned worker with as many slots as the highest
// concurrency, 1 thread. The same rounds also go through a bare one-hop proxy in front of
// the worker (support/bare-proxy.ts), the yardstick of what any hop costs at that concurrency on
// the machine, with the proxy's CPU per stream beside the queen's and the hive's. Prints figures
// and a final line, writes bench/results/streams-<date>.json. Asserts nothing.
//
//   npm run bench -- streams [--concurrency 1,8,32,64] [--tokens 100] [--rounds 4] [--exact-rounds 2] [--threads 1] [--temperature 0] [--warmup 1000]
import { z } from "zod";
import { forcedAnswer } from "../test/support/forced-answers.js";
import { type BareProxy, startBareProxy } from "./support/bare-proxy.js";
import { integerFlag, parseFlags } from "./support/bench-options.js";
import { BenchCloud, type BenchModel } from "./support/bench-cloud.js";
import { writeBenchResults } from "./support/bench-results.js";
import { formatLoadAverage } from "./support/load-average.js";
import { formatMachineFacts, machineFacts } from "./support/machine-facts.js";
import { chargeCpu, type PathCpu, type PathProcesses } from "./support/process-cpu.js";
import { roundOrder } from "./support/run-order.js";
import { percentile } from "./support/summary.js";
import { type ChatBody, type ChatTarget, TimedChatClient, type TimedStream } from "./support/timed-chat.js";
import { addDifferences, compareTokens, NO_DIFFERENCES, type TokenDifferences } from "./support/token-order.js";
import { DEFAULT_WARMUP_ROUNDS, warmUp } from "./support/warm-up.js";

const USAGE =
  `Usage: npm run bench -- streams [--concurrency 1,8,32,64] [--tokens <n per stream, 2–160, default 100>] [--rounds <n per path, 2–100, default 4>] [--exact-rounds <n per path, 0–100, default 2>] [--threads <n, default 1>] [--temperature <0–2, default 0>] [--warmup <rounds, default ${DEFAULT_WARMUP_ROUNDS}>]`;
/** Seeds of a round's streams are SEED_BASE + their index. */
const SEED_BASE = 1000;
/** Tokens per slot, prompt and answer (up to 160 + ~60): 64 slots of the default 4,096 take a loaded 2-core machine too long to allocate. */
const SLOT_CONTEXT_TOKENS = 256;

const Flags = z.object({
  concurrency: z
    .string()
    .default("1,8,32,64")
    .transform((raw) => raw.split(",").map(Number))
    .refine((levels) => levels.every((n) => Number.isInteger(n) && n >= 1 && n <= 256), "expected a comma-separated list of integers 1–256"),
  tokens: integerFlag(2, 160).default(100),
  // At least 2: the worker's own nondeterminism is two direct rounds compared.
  rounds: integerFlag(2, 100).default(4),
  "exact-rounds": integerFlag(0, 100).default(2),
  threads: integerFlag(1, 1024).default(1),
  /**
   * 0 (greedy) by default: a seeded sampled stream is repeatable one at a time, but under
   * concurrency llama.cpp's batched arithmetic varies with the batch's make-up, and one flipped
   * draw changes the rest of that stream (the direct-vs-direct check shows how often).
   */
  temperature: z
    .string()
    .default("0")
    .transform(Number)
    .refine((t) => Number.isFinite(t) && t >= 0 && t <= 2, "expected a number 0–2"),
  warmup: integerFlag(0, 1_000_000).default(DEFAULT_WARMUP_ROUNDS),
});
type Options = z.output<typeof Flags>;

interface RoundFigures {
  streams: number;
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
  /** Over all streams, ms between one piece of text and the next. */
  gapP99Ms: number;
  firstTokenP50Ms: number;
  /**
   * Streams whose pieces of text do not number their usage's completion_tokens: a check of each
   * stream on its own, which the worker's nondeterminism under concurrency cannot blur (on the
   * tiny model each token is one piece, but for a rare token that makes no text; a lost or
   * repeated chunk shows as a difference).
   */
  piecesNotTokens: number;
  /** The first such stream's usage and pieces, in the JSON, to tell whose they are (a byte token's empty text, a merged piece, one missing). */
  firstPiecesNotTokens?: { tokens: number; pieces: string[] };
  /** Streams that failed (an error status, a cut connection, no [DONE]), and the first reason. */
  failed: number;
  firstFailure?: string;
}

/** One path's rounds of forced answers, each stream against the text it had to bring. */
interface ExactFigures {
  streams: number;
  /** Pieces all its streams had to deliver. */
  pieces: number;
  /** Pieces lost, duplicated or reordered, summed over the streams that completed. */
  differences: TokenDifferences;
  /** Completed streams not exactly as forced: other pieces, or a usage that does not number them. */
  inexact: number;
  failed: number;
  firstFailure?: string;
}

interface LevelFigures {
  concurrency: number;
  /** Each path's rounds together: tokens/s is all their tokens over all their seconds. */
  direct: RoundFigures;
  queen: RoundFigures;
  /** The bare proxy's rounds: the yardstick. */
  proxy: RoundFigures;
  /** Queen ÷ direct tokens/s over all rounds. */
  ratio: number;
  /** Bare proxy ÷ direct tokens/s over all rounds. */
  proxyRatio: number;
  /** Queen ÷ direct tokens/s of each round, lowest and highest: how far one round may be trusted. */
  roundRatios: { min: number; max: number };
  /** CPU the queen's workerd and the hive spent per stream of the queen's rounds, and the proxy per stream of its own, ms. */
  cpuPerStreamMs: PathCpu;
  /** Each queen round's streams against the direct round's of the same index, per seed. */
  queenVsDirect: TokenDifferences;
  /** The second direct round against the first: the worker's own nondeterminism. */
  directVsDirect: TokenDifferences;
  /** Each path's forced answers checked against their text: the exact count. */
  exact: Record<Path, ExactFigures>;
}

/** The worker itself, the worker behind a bare proxy, and the worker through the queen and its hive. */
const PATHS = ["direct", "proxy", "queen"] as const;
type Path = (typeof PATHS)[number];

function parseOptions(): Options {
  const flags = { concurrency: { type: "string" }, tokens: { type: "string" }, rounds: { type: "string" }, "exact-rounds": { type: "string" }, threads: { type: "string" }, temperature: { type: "string" }, warmup: { type: "string" } } as const;
  return parseFlags(process.argv.slice(2), flags, Flags, USAGE);
}

/** One round's outcome: its streams (undefined where one failed, with why) and how long it took. */
interface Round {
  streams: (TimedStream | undefined)[];
  failures: string[];
  seconds: number;
}

/** Stream `index`'s request of the timed rounds: its own question and seed. */
function seededBody(model: string, tokens: number, temperature: number): (index: number) => ChatBody {
  return (index) => ({
    model,
    messages: [{ role: "user", content: `Tell me a long story about bee number ${index}.` }],
    max_tokens: tokens,
    temperature,
    seed: SEED_BASE + index,
  });
}

/** `concurrency` streams at once, stream `index` asking `body(index)`. */
async function round(client: TimedChatClient, target: ChatTarget, concurrency: number, body: (index: number) => ChatBody): Promise<Round> {
  const started = performance.now();
  const settled = await Promise.allSettled(Array.from({ length: concurrency }, (_, index) => client.stream(target, body(index))));
  return {
    seconds: (performance.now() - started) / 1000,
    streams: settled.map((result) => (result.status === "fulfilled" ? result.value : undefined)),
    failures: settled.flatMap((result) => (result.status === "rejected" ? [String(result.reason)] : [])),
  };
}

/** The figures of one path's rounds together. */
function figuresOf(rounds: readonly Round[], concurrency: number): RoundFigures {
  const done = rounds.flatMap((r) => r.streams.filter((stream) => stream !== undefined));
  const uneven = done.filter((stream) => stream.pieces.length !== stream.tokens);
  const failures = rounds.flatMap((r) => r.failures);
  const total = done.reduce((sum, stream) => sum + stream.tokens, 0);
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  const gaps = done.flatMap((stream) => stream.arrivals.slice(1).map((at, i) => at - (stream.arrivals[i] as number)));
  return {
    failed: failures.length,
    piecesNotTokens: uneven.length,
    ...(uneven[0] === undefined ? {} : { firstPiecesNotTokens: { tokens: uneven[0].tokens, pieces: uneven[0].pieces } }),
    ...(failures[0] === undefined ? {} : { firstFailure: failures[0] }),
    streams: concurrency * rounds.length,
    tokens: total,
    seconds,
    tokensPerSecond: total / seconds,
    gapP99Ms: gaps.length > 0 ? percentile(gaps, 0.99) : Number.NaN,
    firstTokenP50Ms: done.length > 0 ? percentile(done.map((stream) => stream.firstTokenMs), 0.5) : Number.NaN,
  };
}

/** Adds one round's streams of forced answers to a path's figures; `expected[i]` is stream i's pieces. */
function addExact(figures: ExactFigures, r: Round, expected: readonly (readonly string[])[]): ExactFigures {
  let { pieces, differences, inexact } = figures;
  r.streams.forEach((stream, i) => {
    const want = expected[i] as readonly string[];
    pieces += want.length;
    if (stream === undefined) return;
    const found = compareTokens(want, stream.pieces);
    differences = addDifferences(differences, found);
    // Pieces none lost, repeated or reordered are the very pieces wanted, in order.
    if (stream.tokens !== want.length || found.lost + found.duplicated + found.reordered > 0) inexact++;
  });
  const firstFailure = figures.firstFailure ?? r.failures[0];
  return { streams: figures.streams + r.streams.length, pieces, differences, inexact, failed: figures.failed + r.failures.length, ...(firstFailure === undefined ? {} : { firstFailure }) };
}

/**
 * `rounds` rounds per path of answers a grammar forces, each round's paths in the next order, every
 * stream checked against its text. Not timed: the grammar costs the worker time per token.
 */
async function measureExact(client: TimedChatClient, model: string, targets: Record<Path, ChatTarget>, concurrency: number, options: Options): Promise<Record<Path, ExactFigures>> {
  const none: ExactFigures = { streams: 0, pieces: 0, differences: NO_DIFFERENCES, inexact: 0, failed: 0 };
  const figures: Record<Path, ExactFigures> = { direct: none, proxy: none, queen: none };
  for (let index = 0; index < options["exact-rounds"]; index++) {
    const answers = Array.from({ length: concurrency }, (_, i) => forcedAnswer(model, index, i, options.tokens));
    const expected = answers.map((answer) => answer.pieces);
    for (const path of roundOrder(PATHS, index)) {
      figures[path] = addExact(figures[path], await round(client, targets[path], concurrency, (i) => (answers[i] as (typeof answers)[number]).body), expected);
    }
  }
  return figures;
}

/** Summed over the streams both rounds completed; failed streams are counted apart. */
function differences(reference: readonly (TimedStream | undefined)[], received: readonly (TimedStream | undefined)[]): TokenDifferences {
  return reference.reduce((sum, stream, i) => {
    const other = received[i];
    return stream === undefined || other === undefined ? sum : addDifferences(sum, compareTokens(stream.pieces, other.pieces));
  }, NO_DIFFERENCES);
}

function formatDifferences(d: TokenDifferences): string {
  return `${d.lost} lost, ${d.duplicated} duplicated, ${d.reordered} reordered`;
}

function countsOf(d: TokenDifferences): string {
  return `${d.lost}/${d.duplicated}/${d.reordered}`;
}

/** e.g. `0/0/0 of 12800 pieces, 0 of 128 streams inexact`, with failures when any. */
function formatExact(e: ExactFigures): string {
  return `${countsOf(e.differences)} of ${e.pieces} pieces, ${e.inexact} of ${e.streams} streams inexact` + (e.failed === 0 ? "" : `, ${e.failed} FAILED (first: ${e.firstFailure ?? ""})`);
}

function formatLevel(level: LevelFigures): string {
  const row = (name: string, r: RoundFigures) =>
    `  ${name.padEnd(7)} ${r.tokensPerSecond.toFixed(0).padStart(6)} tok/s  ${r.tokens} tokens in ${r.seconds.toFixed(2)} s  gap p99 ${r.gapP99Ms.toFixed(1)} ms  first token p50 ${r.firstTokenP50Ms.toFixed(1)} ms` +
    `  pieces ≠ tokens in ${r.piecesNotTokens}` +
    (r.failed === 0 ? "" : `  ${r.failed} FAILED (first: ${r.firstFailure ?? ""})`);
  return [
    `${level.concurrency} concurrent stream(s), ${level.direct.streams / level.concurrency} rounds per path:`,
    row("direct", level.direct),
    row("proxy", level.proxy),
    row("queen", level.queen),
    ...(level.exact.direct.streams === 0
      ? []
      : [`  forced answers (pieces lost/duplicated/reordered against the forced text): ${PATHS.map((path) => `${path} ${formatExact(level.exact[path])}`).join("; ")}`]),
    `  bare proxy ÷ direct ${level.proxyRatio.toFixed(2)}; queen ÷ direct ${level.ratio.toFixed(2)} (rounds ${level.roundRatios.min.toFixed(2)}–${level.roundRatios.max.toFixed(2)}); CPU per stream: queen ${level.cpuPerStreamMs.queen.toFixed(1)}, hive ${level.cpuPerStreamMs.hive.toFixed(1)}, bare proxy ${level.cpuPerStreamMs.proxy.toFixed(1)} ms; queen vs direct: ${formatDifferences(level.queenVsDirect)}; direct vs direct: ${formatDifferences(level.directVsDirect)}`,
  ].join("\n");
}

/** One concurrency: a direct warm-up round, then `rounds` rounds per path, each round's paths in the next order. */
async function measureLevel(client: TimedChatClient, model: BenchModel, targets: Record<Path, ChatTarget>, processes: PathProcesses, concurrency: number, options: Options): Promise<LevelFigures> {
  const body = seededBody(model.name, options.tokens, options.temperature);
  const run = (path: Path) => round(client, targets[path], concurrency, body);
  // The first round at a concurrency is slower whichever path runs it (slots first used, memory
  // first touched); counted, it made the path that ran first look 20–40% slower.
  await run("direct");
  const rounds: Record<Path, Round[]> = { direct: [], proxy: [], queen: [] };
  // Each path's rounds cost only its own processes: the proxied ones the proxy's, those through
  // the queen the queen's and the hive's.
  const { cpu: cpuPerStreamMs } = await chargeCpu(processes, concurrency * options.rounds, async () => {
    for (let index = 0; index < options.rounds; index++) {
      for (const path of roundOrder(PATHS, index)) rounds[path].push(await run(path));
    }
  });
  const direct = figuresOf(rounds.direct, concurrency);
  const queen = figuresOf(rounds.queen, concurrency);
  const proxy = figuresOf(rounds.proxy, concurrency);
  const roundRatios = rounds.queen.map((r, i) => figuresOf([r], concurrency).tokensPerSecond / figuresOf([rounds.direct[i] as Round], concurrency).tokensPerSecond);
  return {
    concurrency,
    direct,
    queen,
    proxy,
    ratio: queen.tokensPerSecond / direct.tokensPerSecond,
    proxyRatio: proxy.tokensPerSecond / direct.tokensPerSecond,
    roundRatios: { min: Math.min(...roundRatios), max: Math.max(...roundRatios) },
    cpuPerStreamMs,
    queenVsDirect: rounds.queen.reduce((sum, r, i) => addDifferences(sum, differences((rounds.direct[i] as Round).streams, r.streams)), NO_DIFFERENCES),
    directVsDirect: differences((rounds.direct[0] as Round).streams, (rounds.direct[1] as Round).streams),
    exact: await measureExact(client, model.name, targets, concurrency, options),
  };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const facts = machineFacts();
  process.stdout.write(`streams bench\n${formatMachineFacts(facts)}\n`);
  const workerOptions = { workerThreads: options.threads, workerParallel: Math.max(...options.concurrency) };
  const cloud = await BenchCloud.start({ modelPaths: [], ...workerOptions, tinyContextLength: SLOT_CONTEXT_TOKENS });
  const client = new TimedChatClient();
  const levels: LevelFigures[] = [];
  let seedCheck = false;
  let proxy: BareProxy | undefined;
  try {
    const model = cloud.models[0];
    if (model === undefined) throw new Error("the bench cloud started no worker");
    proxy = await startBareProxy(model.direct.baseUrl);
    const targets: Record<Path, ChatTarget> = { direct: model.direct, proxy: { ...model.direct, baseUrl: proxy.url }, queen: cloud.viaQueen };
    const processes = { ...cloud.relayProcesses, proxy: [proxy.pid] };
    process.stdout.write(
      `model: ${model.name} (${model.path}, context ${SLOT_CONTEXT_TOKENS} tokens per slot); worker: --threads ${options.threads} --parallel ${workerOptions.workerParallel}, cpu; ` +
        `${options.tokens} tokens per stream, temperature ${options.temperature} with seeds ${SEED_BASE}+i, after ${options.warmup} warm-up rounds; the queen on Miniflare, as npm start serves it\n`,
    );
    // The check below means something only if a seed fixes the output: ask twice, one at a time.
    const sampled = seededBody(model.name, options.tokens, 1);
    const once = await round(client, model.direct, 1, sampled);
    const twice = await round(client, model.direct, 1, sampled);
    const [first, second] = [once.streams[0], twice.streams[0]];
    seedCheck = first !== undefined && second !== undefined && first.pieces.join("") === second.pieces.join("");
    process.stdout.write(`the worker honours seed (same seed twice at temperature 1, one at a time, same text): ${seedCheck ? "yes" : "NO"}\n`);
    const warmupBody = (index: number, maxTokens: number): ChatBody => ({ model: model.name, messages: [{ role: "user", content: `Warm-up question ${index}.` }], max_tokens: maxTokens, temperature: 0 });
    await warmUp(client, PATHS.map((path) => ({ target: targets[path], body: warmupBody })), options.warmup, options.tokens);
    for (const concurrency of options.concurrency) {
      const level = await measureLevel(client, model, targets, processes, concurrency, options);
      levels.push(level);
      process.stdout.write(`${formatLevel(level)}\n`);
    }
  } finally {
    client.close();
    await proxy?.stop();
    await cloud.stop();
  }
  const file = await writeBenchResults("streams", { machine: facts, loadAverageAfter: formatLoadAverage(), options, worker: { ...workerOptions, gpu: "cpu" }, seedDeterministic: seedCheck, levels });
  const summary = levels.map(
    (l) =>
      `${l.concurrency}: ×${l.ratio.toFixed(2)} (rounds ${l.roundRatios.min.toFixed(2)}–${l.roundRatios.max.toFixed(2)}; a bare proxy ×${l.proxyRatio.toFixed(2)}) CPU/stream queen ${l.cpuPerStreamMs.queen.toFixed(1)} + hive ${l.cpuPerStreamMs.hive.toFixed(1)} ms (a bare proxy ${l.cpuPerStreamMs.proxy.toFixed(1)}), gap p99 ${l.queen.gapP99Ms.toFixed(0)} ms, first token p50 ${l.queen.firstTokenP50Ms.toFixed(0)} vs ${l.direct.firstTokenP50Ms.toFixed(0)} ms, ${countsOf(l.queenVsDirect)} (direct vs direct ${countsOf(l.directVsDirect)}), pieces ≠ tokens in ${l.queen.piecesNotTokens}` +
      (l.exact.queen.streams === 0 ? "" : `, forced ${countsOf(l.exact.queen.differences)}, inexact ${l.exact.queen.inexact} of ${l.exact.queen.streams} (a bare proxy ${countsOf(l.exact.proxy.differences)}, direct ${countsOf(l.exact.direct.differences)})`) +
      (l.queen.failed + l.direct.failed + l.exact.queen.failed + l.exact.direct.failed === 0 ? "" : `, failed queen ${l.queen.failed + l.exact.queen.failed} direct ${l.direct.failed + l.exact.direct.failed}`),
  );
  process.stdout.write(`load average after: ${formatLoadAverage()}\nwrote ${file}\nstreams (queen ÷ direct tok/s over all rounds with its lowest and highest round and a bare proxy's ÷ direct, the relay's CPU per stream, queen's first token vs direct's, lost/duplicated/reordered against direct and the worker's own between two direct rounds, the queen's streams whose pieces do not number their tokens, and the forced answers' pieces lost/duplicated/reordered through the queen with its streams not exactly as forced): ${summary.join("; ")}\n`);
}

await main().catch((error: unknown) => {
  process.stderr.write(`streams bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
