// Run by llama-probe.ts as a child process (node --import tsx): loads a llama.cpp binary the way a
// worker would and prints what it got as one JSON line. A separate process because an incompatible
// native binary can crash the process that loads it, and the hive must survive a bad binary.
// Argument: JSON `{ gpu: false | "cuda" | "vulkan" | "metal", buildFolder?: string }`.
import { getLlama, LlamaLogLevel, NoBinaryFoundError, type Llama } from "node-llama-cpp";
import { loadLlamaBuild } from "../../../../shared/llama/load-llama-build.js";

const request = JSON.parse(process.argv[2] ?? "{}") as { gpu: false | "cuda" | "vulkan" | "metal"; buildFolder?: string };
const quiet = () => {};
let llama: Llama;
try {
  llama =
    request.buildFolder === undefined
      ? // node-llama-cpp's own choice and check: it tests a prebuilt binary in a child of its own
        // before loading it; "never" so a missing binary is an answer, not a silent many-minute build.
        await getLlama({ gpu: request.gpu, build: "never", progressLogs: false, skipDownload: true, logLevel: LlamaLogLevel.error, logger: quiet, maxThreads: 1 })
      : await loadLlamaBuild(request.buildFolder, { maxThreads: 1, logger: quiet });
} catch (error) {
  // NoBinaryFoundError's message is only its name: say which binary was not found.
  const message = error instanceof NoBinaryFoundError ? `node-llama-cpp has no ${request.gpu === false ? "cpu" : request.gpu} binary that loads and passes its check here` : error instanceof Error ? error.message : String(error);
  process.stdout.write(`${JSON.stringify({ error: message })}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ gpu: llama.gpu, buildType: llama.buildType })}\n`);
await llama.dispose();
