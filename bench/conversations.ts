// Benchmark: what a conversation's next turn costs a worker with several slots, when a slot still
// holds the turn before (worker/prompt-slot.ts) and when it does not. As many conversations as slots
// take turns on one real worker process, in an order drawn at random (the same order for both
// modes of a round), and each later turn is timed to its first token. Both modes run in one
// process, round by round in alternating order:
// - `own slot`: every request of the conversations' API key, as the queen scopes them
//   (`rbee_cache_scope`): a turn goes to the free slot that holds its conversation;
// - `any slot`: each request of a scope of its own, as if of another key: no slot is chosen for what
//   it holds, and a turn takes the slot released longest ago, which holds its conversation only
//   when the order happens to make it so (node-llama-cpp then reuses the tokens all the same).
// Prints figures, asserts nothing.
//
//   npm run bench -- conversations [--model <file.gguf>] [--slots 2] [--turns 6] [--opening-chars 2400] [--rounds 3] [--threads 1]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { writeTinyLlamaGguf } from "../shared/gguf/tiny-llama.js";
import { mulberry32 } from "../shared/seeded-random.js";
import { integerFlag, parseFlags } from "./support/bench-options.js";
import { writeBenchResults } from "./support/bench-results.js";
import { formatMachineFacts, machineFacts } from "./support/machine-facts.js";
import { percentile } from "./support/summary.js";
import { TimedChatClient, type ChatTarget } from "./support/timed-chat.js";
import { WorkerProcess } from "./support/worker-process.js";

const USAGE = `Usage: npm run bench -- conversations [--model <file.gguf, default: a generated 512-wide test model>]
  [--slots <n, default 2>] [--turns <n, default 6>] [--opening-chars <n, default 2400>] [--rounds <n, default 3>] [--threads <n, default 1>]`;

const Flags = z.object({
  model: z.string().min(1, "expected a path to a .gguf file").optional(),
  slots: integerFlag(2, 16).default(2),
  turns: integerFlag(2, 50).default(6),
  "opening-chars": integerFlag(10, 100_000).default(2400),
  rounds: integerFlag(1, 100).default(3),
  threads: integerFlag(1, 1024).default(1),
});
type Flags = z.infer<typeof Flags>;

type Mode = "own slot" | "any slot";
const MODES: readonly Mode[] = ["own slot", "any slot"];

interface Turn {
  firstTokenMs: number;
  promptTokens: number;
  cachedTokens: number;
}

/** Which conversation speaks at each step: each of `conversations` `turns` times, in an order drawn from `seed`. */
function speakingOrder(conversations: number, turns: number, seed: number): number[] {
  const order = Array.from({ length: conversations * turns }, (_, index) => index % conversations);
  // Seeded, so both modes of a round meet the same order.
  const random = mulberry32(seed);
  for (let index = order.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [order[index], order[other]] = [order[other] as number, order[index] as number];
  }
  return order;
}

/** One round of one mode: as many conversations as slots, speaking in `order`; the later turns' figures. */
async function converse(client: TimedChatClient, worker: ChatTarget, mode: Mode, round: number, order: readonly number[], flags: Flags): Promise<Turn[]> {
  const conversations = Array.from({ length: flags.slots }, (_, index) => [
    { role: "user", content: `Round ${round}, conversation ${index}: ${"Tell me a long story about the sea and its ships. ".repeat(Math.ceil(flags["opening-chars"] / 50))}`.slice(0, flags["opening-chars"]) },
  ]);
  const later: Turn[] = [];
  for (const [step, speaker] of order.entries()) {
    const messages = conversations[speaker];
    if (messages === undefined) continue;
    const scope = mode === "own slot" ? "bench-key" : `bench-key-${round}-${step}`;
    const answer = await client.stream(worker, { model: "bench", messages, max_tokens: 8, temperature: 0, rbee_cache_scope: scope });
    if (messages.length > 1) later.push({ firstTokenMs: answer.firstTokenMs, promptTokens: answer.promptTokens, cachedTokens: answer.cachedTokens });
    messages.push({ role: "assistant", content: answer.pieces.join("") }, { role: "user", content: `And then, after step ${step}?` });
  }
  return later;
}

function figures(turns: readonly Turn[]) {
  const ttft = turns.map((turn) => turn.firstTokenMs);
  const prompt = turns.reduce((sum, turn) => sum + turn.promptTokens, 0);
  const cached = turns.reduce((sum, turn) => sum + turn.cachedTokens, 0);
  return {
    turns: turns.length,
    ttftMeanMs: ttft.reduce((sum, ms) => sum + ms, 0) / ttft.length,
    ttftP50Ms: percentile(ttft, 0.5),
    ttftP90Ms: percentile(ttft, 0.9),
    promptTokensMean: Math.round(prompt / turns.length),
    cachedShare: prompt === 0 ? 0 : cached / prompt,
  };
}

async function main(): Promise<void> {
  let flags: Flags;
  try {
    const options = Object.fromEntries(Object.keys(Flags.shape).map((name) => [name, { type: "string" as const }]));
    flags = parseFlags(process.argv.slice(2), options, Flags, USAGE);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), "rbee-bench-conversations-"));
  let worker: WorkerProcess | undefined;
  const client = new TimedChatClient();
  try {
    // A generated model 512 wide, with 8 heads of 64 values: its prompts cost what a small real model's do per token.
    const modelPath = flags.model ?? join(dir, "rbee-mid.gguf");
    if (flags.model === undefined) await writeTinyLlamaGguf(modelPath, { embeddingLength: 512, headCount: 8 });
    const facts = machineFacts();
    process.stdout.write(`${formatMachineFacts(facts)}\n`);
    process.stdout.write(`model ${flags.model ?? "rbee-mid (generated: 512 wide, 8 heads)"}, ${flags.slots} slots, ${flags.threads} thread(s); ${flags.slots} conversations of ${flags.turns} turns, openings of ${flags["opening-chars"]} characters, ${flags.rounds} rounds a mode\n`);
    worker = await WorkerProcess.start({ modelPath, threads: flags.threads, parallel: flags.slots });
    const target: ChatTarget = { baseUrl: worker.url, authorization: worker.authorization };
    const turns: Record<Mode, Turn[]> = { "own slot": [], "any slot": [] };
    // A warm-up round, not counted: the first requests pay for code and caches still cold.
    await converse(client, target, "own slot", 0, speakingOrder(flags.slots, 2, 0), flags);
    for (let round = 1; round <= flags.rounds; round++) {
      const order = speakingOrder(flags.slots, flags.turns, round);
      for (const mode of round % 2 === 1 ? MODES : [...MODES].reverse()) turns[mode].push(...(await converse(client, target, mode, round, order, flags)));
    }
    const results = { own: figures(turns["own slot"]), any: figures(turns["any slot"]) };
    for (const [mode, result] of [["own slot", results.own], ["any slot", results.any]] as const) {
      process.stdout.write(
        `${mode.padEnd(9)} ${result.turns} later turns of ~${result.promptTokensMean} prompt tokens: time to first token mean ${result.ttftMeanMs.toFixed(1)} ms, p50 ${result.ttftP50Ms.toFixed(1)} ms, p90 ${result.ttftP90Ms.toFixed(1)} ms; cached ${(result.cachedShare * 100).toFixed(0)}% of the prompt\n`,
      );
    }
    const file = await writeBenchResults("conversations", { machine: facts, flags, results });
    process.stdout.write(
      `conversations: ${flags.slots} slots, next turns of ~${results.own.promptTokensMean} prompt tokens: time to first token mean ${results.own.ttftMeanMs.toFixed(1)} ms on its own slot, ${results.any.ttftMeanMs.toFixed(1)} ms on any (×${(results.any.ttftMeanMs / results.own.ttftMeanMs).toFixed(1)}; p90 ${results.own.ttftP90Ms.toFixed(1)} against ${results.any.ttftP90Ms.toFixed(1)} ms), ${(results.own.cachedShare * 100).toFixed(0)}% of the prompt cached\n` +
        `results: ${file}\n`,
    );
  } finally {
    client.close();
    await worker?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
