// Benchmark: tokens/s of one stream through the worker's HTTP API (plain and streamed) against
// node-llama-cpp called in-process on the same model, and their ratio; with --llama-server, also
// against llama.cpp's own server streaming the same model. Prints figures, asserts nothing.
//
//   node --import tsx bench/worker-throughput.ts [--tokens 400] [--runs 5] [--threads 1] [--model <file.gguf> | --tiny-heads 1]
//     [--llama-server <binary>] [--llama-build <folder>]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { ChatMessage } from "../shared/openai/chat-request.js";
import { writeTinyLlamaGguf } from "../shared/gguf/tiny-llama.js";
import { parseBenchOptions, USAGE, wantsHelp, type BenchOptions } from "./support/bench-options.js";
import { InProcessGenerator } from "./support/in-process-generator.js";
import { LlamaServerProcess } from "./support/llama-server-process.js";
import { formatLoadAverage } from "./support/load-average.js";
import { formatReport, type Mode, type Runs } from "./support/report.js";
import type { RunResult } from "./support/run-result.js";
import { roundOrder } from "./support/run-order.js";
import { WorkerClient } from "./support/worker-client.js";
import { WorkerProcess } from "./support/worker-process.js";

// A short system prompt: the default one takes more context than a byte-level vocab can spare.
const MESSAGES: ChatMessage[] = [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "Tell me a long story about a bee that builds a hive." },
];

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let options: BenchOptions;
  try {
    options = parseBenchOptions(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }

  let tempDir: string | undefined;
  let worker: WorkerProcess | undefined;
  let client: WorkerClient | undefined;
  let noPollWorker: WorkerProcess | undefined;
  let noPollClient: WorkerClient | undefined;
  let inProcess: InProcessGenerator | undefined;
  let llamaServer: LlamaServerProcess | undefined;
  let llamaServerClient: WorkerClient | undefined;
  try {
    let modelPath = options.modelPath;
    if (modelPath === undefined) {
      tempDir = await mkdtemp(join(tmpdir(), "rbee-bench-"));
      modelPath = join(tempDir, "rbee-tiny.gguf");
      await writeTinyLlamaGguf(modelPath, { headCount: options.tinyHeads });
    }
    const tinyModel = `rbee-tiny (generated${options.tinyHeads === undefined ? "" : `, ${options.tinyHeads} attention head(s)`})`;
    process.stdout.write(
      `worker throughput: model ${options.modelPath === undefined ? tinyModel : basename(modelPath)}, ` +
        `${options.tokens} tokens, ${options.runs} runs per mode, ${options.threads} thread(s), cpu, node ${process.version}\n` +
        `llama.cpp: ${options.llamaBuild === undefined ? "node-llama-cpp's prebuilt binary" : `the build in ${options.llamaBuild}`}\n` +
        `load average before: ${formatLoadAverage()}\n`,
    );
    const { threads, llamaBuild } = options;
    worker = await WorkerProcess.start({ modelPath, threads, llamaBuild });
    const http = (client = new WorkerClient(worker.url, worker.authorization));
    // The same worker with polling between tokens off, to show what polling gains.
    noPollWorker = await WorkerProcess.start({ modelPath, threads, llamaBuild, pollUs: 0, workerId: "wrk_bench2" });
    const noPoll = (noPollClient = new WorkerClient(noPollWorker.url, noPollWorker.authorization));
    const local = (inProcess = await InProcessGenerator.load({ modelPath, threads, llamaBuild }));

    const chat = { messages: MESSAGES, maxTokens: options.tokens };
    // Each mode with its runner, in the report's order (MODES).
    const runners: Array<[Mode, () => Promise<RunResult>]> = [
      ["in-process", () => local.generate(chat.messages, chat.maxTokens)],
      ["http non-stream", () => http.complete(chat)],
      ["http stream", () => http.stream(chat)],
      ["no-poll stream", () => noPoll.stream(chat)],
    ];
    if (options.llamaServer !== undefined) {
      llamaServer = await LlamaServerProcess.start({ binary: options.llamaServer, modelPath, threads });
      // llama-server asks for no key: the header is sent and ignored.
      const viaLlamaServer = (llamaServerClient = new WorkerClient(llamaServer.url, "Bearer none"));
      runners.push(["llama-server stream", () => viaLlamaServer.stream(chat)]);
    }
    // One warm-up each: the first generation pays for allocations and cold caches on both sides.
    for (const [, run] of runners) await run();

    const runs: Runs = { "in-process": [], "http non-stream": [], "http stream": [], "no-poll stream": [], "llama-server stream": [] };
    for (let round = 0; round < options.runs; round++) {
      // Modes alternate within each round so load from other processes hits all of them alike.
      for (const [mode, run] of roundOrder(runners, round)) runs[mode].push(await run());
    }
    process.stdout.write(`${formatReport(runs)}\nload average after: ${formatLoadAverage()}\n`);
  } finally {
    client?.close();
    noPollClient?.close();
    llamaServerClient?.close();
    await llamaServer?.stop();
    await worker?.stop();
    await noPollWorker?.stop();
    await inProcess?.dispose();
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  }
}

await main().catch((error: unknown) => {
  // A failed start already says why (the worker's stderr is in the message); a stack adds nothing.
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
