// Asks, in a child process, whether a llama.cpp binary works on this machine for a backend:
// node-llama-cpp's prebuilt one (the first thing a local build checks: a binary that loads needs no
// build), or a build the hive just compiled (checked before it is recorded in the catalog).
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { execa } from "execa";
import { z } from "zod";
import type { WorkerType } from "../../../catalog/worker/worker-artifact.js";

/** How long a probe may take, ms: node-llama-cpp loads, then tests the binary in a child of its own. */
const PROBE_TIMEOUT_MS = 180_000;
const CHILD = fileURLToPath(new URL("./llama-probe-child.ts", import.meta.url));

export type ProbeResult = { works: true; buildType: string } | { works: false; reason: string };

/**
 * Answers about node-llama-cpp's prebuilt binaries, by backend, for the life of this process: they
 * sit in node_modules and do not change while the hive runs, and each probe costs a second or more.
 */
const prebuiltAnswers = new Map<WorkerType, ProbeResult>();

/** Whether the binary for `backend` (the prebuilt one, or the build in `buildFolder`) loads here with that backend. */
export async function probeLlama(backend: WorkerType, buildFolder: string | undefined, signal: AbortSignal): Promise<ProbeResult> {
  const known = buildFolder === undefined ? prebuiltAnswers.get(backend) : undefined;
  if (known) return known;
  const answer = await probeInChild(backend, buildFolder, signal);
  if (buildFolder === undefined) prebuiltAnswers.set(backend, answer);
  return answer;
}

async function probeInChild(backend: WorkerType, buildFolder: string | undefined, signal: AbortSignal): Promise<ProbeResult> {
  const gpu = backend === "cpu" ? false : backend;
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm")).href;
  const result = await execa(process.execPath, ["--import", tsx, CHILD, JSON.stringify({ gpu, buildFolder })], {
    cwd: path.dirname(CHILD),
    reject: false,
    stdin: "ignore",
    timeout: PROBE_TIMEOUT_MS,
    cancelSignal: signal,
    maxBuffer: 1024 * 1024,
  });
  signal.throwIfAborted();
  const answer = parseAnswer(result.stdout);
  if (answer && "error" in answer) return { works: false, reason: answer.error };
  if (result.failed || answer === undefined) {
    const why = result.timedOut ? `it did not answer within ${PROBE_TIMEOUT_MS} ms` : `it exited with ${result.exitCode ?? result.signal ?? "nothing"}: ${lastLine(result.stderr) ?? "no output"}`;
    return { works: false, reason: why };
  }
  if (answer.gpu !== gpu) return { works: false, reason: `it loaded ${answer.gpu === false ? "without a GPU" : `with ${String(answer.gpu)}`} instead of ${backend}` };
  return { works: true, buildType: String(answer.buildType) };
}

const Answer = z.union([z.object({ gpu: z.union([z.literal(false), z.string()]), buildType: z.string() }), z.object({ error: z.string() })]);

function parseAnswer(stdout: string): z.infer<typeof Answer> | undefined {
  try {
    return Answer.parse(JSON.parse(lastLine(stdout) ?? ""));
  } catch {
    return undefined;
  }
}

function lastLine(text: string): string | undefined {
  const lines = text.trim().split("\n").filter((line) => line.trim() !== "");
  return lines.at(-1)?.slice(0, 300);
}
