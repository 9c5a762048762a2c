// Starts real worker processes (worker/main.ts) on the tiny GGUF model for the worker's tests, and
// the small HTTP and SSE helpers those tests share.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { expect } from "vitest";
import { findFreeLoopbackPort } from "../../shared/free-port.js";
import { writeTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import { writeTinyRerankerGguf } from "../../shared/gguf/tiny-reranker.js";
import { waitForListeningLine, waitForReadyLine } from "../../shared/protocol/listening-line.js";
import { WORKER_SECRET_ENV, workerLaunchArgs } from "../../shared/protocol/worker-launch.js";
import type { Usage } from "../../worker/completion-result.js";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const MODEL_NAME = "rbee-tiny";
export const HEARTBEAT_INTERVAL_MS = 200;
/** The tiny model's `embedding_length`. */
export const TINY_EMBEDDING_SIZE = 64;

/** A temporary directory holding the tiny model; `remove` deletes it. */
export interface TinyModel {
  dir: string;
  path: string;
  remove(): Promise<void>;
}

/** The tiny chat model, or with `reranker` the tiny reranker (shared/gguf/tiny-reranker.ts). */
export async function writeTinyModel(kind: "chat" | "reranker" | "fill-in-the-middle" = "chat"): Promise<TinyModel> {
  const dir = await mkdtemp(join(tmpdir(), "rbee-worker-test-"));
  const path = join(dir, "tiny.gguf");
  await (kind === "reranker" ? writeTinyRerankerGguf(path) : writeTinyLlamaGguf(path, { fillInTheMiddle: kind === "fill-in-the-middle" }));
  return { dir, path, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface WorkerArgs {
  workerId: string;
  port: number;
  modelPath: string;
  hiveChannel?: string;
  /** More flags, e.g. ["--parallel", "3"]. */
  extraArgs?: readonly string[];
  /**
   * An installed worker build to start instead of worker/main.ts under tsx (worker-command.ts's
   * command and arguments), from `cwd`, with only PATH and its secret in its environment.
   */
  launch?: { command: string; args: readonly string[]; cwd: string };
}

export function workerArgs(options: WorkerArgs): string[] {
  return [
    ...(options.launch?.args ?? ["--import", "tsx", "worker/main.ts"]),
    ...workerLaunchArgs({
      modelPath: options.modelPath,
      modelName: MODEL_NAME,
      workerId: options.workerId,
      port: options.port,
      hiveChannel: options.hiveChannel,
      // One thread: the default (every core) runs the tiny model ~500× slower on a 2-core machine.
      threads: 1,
      gpu: "cpu",
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    }),
    ...(options.extraArgs ?? []),
  ];
}

/** A worker's environment with a fresh secret, as its hive would give it; `authorization` is what to send. */
export function workerSecretEnv(): { env: Record<string, string>; authorization: string } {
  const secret = randomBytes(32).toString("hex");
  return { env: { [WORKER_SECRET_ENV]: secret }, authorization: `Bearer ${secret}` };
}

export interface RunningWorker {
  workerId: string;
  port: number;
  pid: number;
  url: string;
  /** What its hive would send: `Authorization: Bearer <its secret>` (Host is fetch's own, 127.0.0.1:port). */
  authorization: string;
  process: ResultPromise<{ cwd: string; reject: false; forceKillAfterDelay: false }>;
  /** SIGKILL unless it already exited; safe to call twice. */
  kill(): Promise<void>;
}

/** Starts a worker on a free port and resolves once it prints its `ready` line: its model is loaded. */
export function startWorker(options: Omit<WorkerArgs, "port">): Promise<RunningWorker> {
  return launchWorker(options, waitForReadyLine, "serving");
}

/** Starts a worker on a free port and resolves once it prints its `listening` line, before its model loads. */
export function startListeningWorker(options: Omit<WorkerArgs, "port">): Promise<RunningWorker> {
  return launchWorker(options, waitForListeningLine, "listening");
}

async function launchWorker(
  options: Omit<WorkerArgs, "port">,
  waitForLine: (stdout: NodeJS.ReadableStream) => Promise<number>,
  what: string,
): Promise<RunningWorker> {
  const port = await findFreeLoopbackPort();
  const { env, authorization } = workerSecretEnv();
  const { launch } = options;
  // execa would SIGKILL a worker 5 s after a test's SIGTERM, cutting a drain that a loaded machine
  // makes longer than that; the tests decide when to force an end (kill()).
  const subprocess = launch
    ? execa(launch.command, workerArgs({ ...options, port }), {
        cwd: launch.cwd,
        reject: false,
        env: { PATH: process.env.PATH ?? "", ...env },
        extendEnv: false,
        forceKillAfterDelay: false,
      })
    : execa("node", workerArgs({ ...options, port }), { cwd: REPO_ROOT, reject: false, env, forceKillAfterDelay: false });
  await Promise.race([
    waitForLine(subprocess.stdout),
    subprocess.then((result) => {
      throw new Error(`worker exited with ${result.exitCode} before ${what}: ${result.stderr}`);
    }),
  ]);
  return {
    workerId: options.workerId,
    port,
    pid: subprocess.pid ?? 0,
    url: `http://127.0.0.1:${port}`,
    authorization,
    process: subprocess,
    async kill() {
      if (subprocess.exitCode === null) subprocess.kill("SIGKILL");
      await subprocess;
    },
  };
}

/** The headers the hive sends with a request body: its JSON type and the worker's secret. */
export function jsonHeaders(worker: RunningWorker): Record<string, string> {
  return { "content-type": "application/json", authorization: worker.authorization };
}

export function post(worker: RunningWorker, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${worker.url}${path}`, {
    method: "POST",
    headers: jsonHeaders(worker),
    body: JSON.stringify(body),
    signal,
  });
}

/** The body as the shape the test expects; the assertions that follow check it. */
export async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

export interface ChatCompletionBody {
  id: string;
  object: string;
  model: string;
  choices: Array<{ message: { role: string; content: string }; finish_reason: string }>;
  usage: Usage;
}

export interface ChatChunkBody {
  id: string;
  choices: Array<{ delta: { role?: string; content?: string }; finish_reason: string | null }>;
  usage?: Usage;
}

export interface TextCompletionBody {
  id: string;
  object: string;
  model: string;
  choices: Array<{ index: number; text: string; finish_reason: string | null; logprobs: null }>;
  usage?: Usage;
}

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface HealthBody {
  status: string;
  /** 0..1, only while the model loads. */
  loadProgress?: number;
  slotsTotal: number;
  slotsBusy: number;
  queueLength: number;
}

export async function health(worker: RunningWorker): Promise<HealthBody> {
  return json<HealthBody>(await fetch(`${worker.url}/health`, { headers: { authorization: worker.authorization } }));
}

/** A greedy chat request for "Hi", with `overrides` on top. */
export function greedyChat(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: MODEL_NAME, messages: [{ role: "user", content: "Hi" }], temperature: 0, ...overrides };
}

/** The assistant text of a chat completion that must succeed. */
export async function chatText(worker: RunningWorker, body: unknown): Promise<string> {
  const response = await post(worker, "/v1/chat/completions", body);
  expect(response.status).toBe(200);
  return (await json<ChatCompletionBody>(response)).choices[0]?.message.content ?? "";
}

/** The text of a legacy completion that must succeed. */
export async function completionText(worker: RunningWorker, body: unknown): Promise<string> {
  const response = await post(worker, "/v1/completions", body);
  expect(response.status).toBe(200);
  return (await json<TextCompletionBody>(response)).choices[0]?.text ?? "";
}

/** The `data:` payloads of a complete server-sent-events body. */
export function parseSse(text: string): string[] {
  expect(text.endsWith("\n\n")).toBe(true);
  return text
    .split("\n\n")
    .filter((event) => event !== "")
    .map((event) => {
      expect(event.startsWith("data: ")).toBe(true);
      return event.slice("data: ".length);
    });
}
