// Runs the real worker process against the tiny GGUF model: its HTTP API, heartbeats to a stand-in
// hive channel, client disconnects, SIGTERM draining and a corrupt model file.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { writeTinyLlamaGguf } from "../shared/gguf/tiny-llama.js";
import { WorkerHeartbeat } from "../shared/protocol/worker-heartbeat.js";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const MODEL_NAME = "rbee-tiny";
const HEARTBEAT_INTERVAL_MS = 200;
// The tiny model's tokenizer has one token per character, and its ChatML template renders a user
// "Hi" as BOS, <|im_start|>, "user\n" (5), "Hi" (2), <|im_end|>, "\n", <|im_start|>, "assistant\n" (10).
const PROMPT_TOKENS_FOR_HI = 22;

let tempDir = "";
let modelPath = "";
let hive: HiveChannelStub;

beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), "rbee-worker-test-"));
  modelPath = join(tempDir, "tiny.gguf");
  await writeTinyLlamaGguf(modelPath);
  hive = await HiveChannelStub.start();
});

afterAll(async () => {
  await hive?.close();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

describe("a running worker", () => {
  let worker: RunningWorker;

  beforeAll(async () => {
    worker = await startWorker({ workerId: "wrk_serving1", hiveChannel: hive.url });
  });

  afterAll(async () => {
    await worker?.kill();
  });

  it("serves /health with its model, id and free slots", async () => {
    const response = await fetch(`${worker.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: "ready",
      model: MODEL_NAME,
      workerId: worker.workerId,
      slotsTotal: 1,
      slotsBusy: 0,
    });
  });

  it("answers a chat completion with text, usage, and finish_reason length when max_tokens is hit", async () => {
    const response = await postChat(worker, greedy({ max_tokens: 16 }));
    expect(response.status).toBe(200);
    const body = await json<ChatCompletionBody>(response);
    expect(body).toMatchObject({
      object: "chat.completion",
      model: MODEL_NAME,
      choices: [{ index: 0, message: { role: "assistant" }, finish_reason: "length", logprobs: null }],
    });
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
    expect(body.usage).toEqual({ prompt_tokens: PROMPT_TOKENS_FOR_HI, completion_tokens: 16, total_tokens: PROMPT_TOKENS_FOR_HI + 16 });
  });

  it("counts the whole templated prompt even when the sequence already holds it", async () => {
    await completionText(worker, greedy({ max_tokens: 4 }));
    const again = await json<ChatCompletionBody>(await postChat(worker, greedy({ max_tokens: 4 })));
    expect(again.usage.prompt_tokens).toBe(PROMPT_TOKENS_FOR_HI);
  });

  it("gives the same text for the same greedy request", async () => {
    const first = await completionText(worker, greedy({ max_tokens: 40 }));
    const second = await completionText(worker, greedy({ max_tokens: 40 }));
    expect(second).toBe(first);
  });

  it("streams exactly the text it returns without streaming, in OpenAI's chunk order", async () => {
    const expected = await completionText(worker, greedy({ max_tokens: 40 }));
    const response = await postChat(worker, greedy({ max_tokens: 40, stream: true }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = parseSse(await response.text());

    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event) as ChunkBody);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    expect(chunks.at(-1)?.choices[0]).toMatchObject({ delta: {}, finish_reason: "length" });
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: "chat.completion.chunk", id: chunks[0]?.id, model: MODEL_NAME });
    }
    const streamed = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    expect(streamed).toBe(expected);
  });

  it("sends a usage chunk before [DONE] when stream_options.include_usage is set", async () => {
    const response = await postChat(worker, greedy({ max_tokens: 8, stream: true, stream_options: { include_usage: true } }));
    const events = parseSse(await response.text());
    expect(events.at(-1)).toBe("[DONE]");
    const usageChunk = JSON.parse(events.at(-2) ?? "{}") as ChunkBody;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toMatchObject({ completion_tokens: 8 });
    expect(usageChunk.usage?.total_tokens).toBe((usageChunk.usage?.prompt_tokens ?? 0) + 8);
  });

  it("ends the text before a stop string, with finish_reason stop", async () => {
    const text = await completionText(worker, greedy({ max_tokens: 40 }));
    const stop = text.slice(20, 23);
    const response = await postChat(worker, greedy({ max_tokens: 40, stop: [stop] }));
    const body = await json<ChatCompletionBody>(response);
    expect(body.choices[0]?.message.content).toBe(text.slice(0, text.indexOf(stop)));
    expect(body.choices[0]?.finish_reason).toBe("stop");
    // Completion tokens are those of the returned text (one per character here), not of the stop string.
    expect(body.usage.completion_tokens).toBe(body.choices[0]?.message.content.length);
  });

  it("rejects malformed JSON with 400 naming the problem", async () => {
    const response = await fetch(`${worker.url}/v1/chat/completions`, { method: "POST", body: '{"model": "x",' });
    expect(response.status).toBe(400);
    const body = await json<ErrorBody>(response);
    expect(body.error).toMatchObject({ type: "invalid_request_error", code: "invalid_json" });
    expect(body.error.message).toMatch(/^Malformed JSON body: /);
  });

  it("rejects a request without messages with 400 naming messages", async () => {
    const response = await postChat(worker, { model: MODEL_NAME });
    expect(response.status).toBe(400);
    const body = await json<ErrorBody>(response);
    expect(body.error).toMatchObject({ param: "messages", code: "invalid_request" });
    expect(body.error.message).toContain("messages");
  });

  it("refuses a body over 1 MiB with 413 before parsing it", async () => {
    const hugeText = "x".repeat(1024 * 1024 + 1);
    const response = await postChat(worker, { model: MODEL_NAME, messages: [{ role: "user", content: hugeText }] });
    expect(response.status).toBe(413);
    expect((await json<ErrorBody>(response)).error.code).toBe("request_too_large");
  });

  it("refuses a prompt that cannot fit the context, saying how many tokens were asked and fit", async () => {
    const longText = "y".repeat(5000);
    const response = await postChat(worker, { model: MODEL_NAME, messages: [{ role: "user", content: longText }] });
    expect(response.status).toBe(400);
    const body = await json<ErrorBody>(response);
    expect(body.error).toMatchObject({ code: "context_length_exceeded", param: "messages" });
    expect(body.error.message).toMatch(/fits 4095 tokens, but the request asks for 50\d\d/);
  });

  it("answers 404 for an unknown route and 405 for a wrong method, as OpenAI-style errors", async () => {
    const notFound = await fetch(`${worker.url}/v1/nothing-here`);
    expect(notFound.status).toBe(404);
    expect((await json<ErrorBody>(notFound)).error.code).toBe("not_found");
    const wrongMethod = await fetch(`${worker.url}/v1/chat/completions`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect((await json<ErrorBody>(wrongMethod)).error).toMatchObject({ code: "method_not_allowed", param: null });
  });

  it("sends valid heartbeats to the hive channel: loading first, then ready", async () => {
    await vi.waitFor(() => expect(hive.states(worker.workerId)).toContain("ready"));
    expect(hive.rejected).toEqual([]);
    const received = hive.heartbeats(worker.workerId);
    expect(received[0]?.state).toBe("loading");
    for (const heartbeat of received) {
      expect(heartbeat).toMatchObject({ model: MODEL_NAME, pid: worker.pid, port: worker.port });
    }
  });

  it("frees the slot as soon as a streaming client disconnects", async () => {
    // Long enough (~3,500 tokens, seconds on one thread) that only an abort frees the slot in time.
    const body = JSON.stringify(greedy({ max_tokens: 3500, stream: true }));
    await new Promise<void>((resolve, reject) => {
      const request = httpRequest(`${worker.url}/v1/chat/completions`, { method: "POST" }, (response) => {
        response.once("data", () => {
          request.destroy();
          resolve();
        });
      });
      // Destroying the request surfaces as an error on it; that is the point here.
      request.on("error", () => {});
      request.end(body);
      request.setTimeout(10_000, () => reject(new Error("no first chunk")));
    });
    await vi.waitFor(
      async () => {
        const health = await json<HealthBody>(await fetch(`${worker.url}/health`));
        expect(health.slotsBusy).toBe(0);
      },
      { timeout: 1500, interval: 20 },
    );
    const followUp = await postChat(worker, greedy({ max_tokens: 4 }));
    expect(followUp.status).toBe(200);
    expect((await json<ChatCompletionBody>(followUp)).choices[0]?.finish_reason).toBe("length");
  });
});

describe("shutting down", () => {
  it("finishes an in-flight request on SIGTERM, sends a stopped heartbeat and exits 0", async () => {
    const worker = await startWorker({ workerId: "wrk_draining1", hiveChannel: hive.url });
    try {
      const inFlight = postChat(worker, greedy({ max_tokens: 1500 }));
      await vi.waitFor(async () => {
        expect((await json<HealthBody>(await fetch(`${worker.url}/health`))).slotsBusy).toBe(1);
      });
      // The hive hears "busy" while the only slot is taken.
      await vi.waitFor(() => expect(hive.states(worker.workerId)).toContain("busy"));
      worker.process.kill("SIGTERM");

      const response = await inFlight;
      expect(response.status).toBe(200);
      expect((await json<ChatCompletionBody>(response)).usage.completion_tokens).toBe(1500);
      const result = await worker.process;
      expect(result.exitCode).toBe(0);
      const states = hive.states(worker.workerId);
      expect(states).toContain("draining");
      expect(states.at(-1)).toBe("stopped");
    } finally {
      await worker.kill();
    }
  });
});

describe("failing to start", () => {
  it("exits 1 and heartbeats failed with the reason when the GGUF is corrupt", async () => {
    const corruptPath = join(tempDir, "corrupt.gguf");
    await writeFile(corruptPath, randomBytes(64 * 1024));
    const port = await freePort();
    const result = await execa("node", workerArgs({ workerId: "wrk_corrupt1", port, modelPath: corruptPath, hiveChannel: hive.url }), {
      cwd: REPO_ROOT,
      reject: false,
      timeout: 30_000,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`could not load model ${corruptPath}`);
    expect(result.stdout).toBe("");
    const last = hive.heartbeats("wrk_corrupt1").at(-1);
    expect(last?.state).toBe("failed");
    expect(last?.failure).toContain("could not load model");
  });

  it("exits 2 naming the flag, what was expected and what arrived when a flag is bad", async () => {
    const result = await execa("node", ["--import", "tsx", "worker/main.ts", "--model", "x.gguf", "--port", "abc"], {
      cwd: REPO_ROOT,
      reject: false,
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`--model-name: expected a model name, got nothing`);
  });
});

// --- helpers ---------------------------------------------------------------------------------

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

interface ChatCompletionBody {
  id: string;
  choices: Array<{ message: { role: string; content: string }; finish_reason: string }>;
  usage: Usage;
}

interface ChunkBody {
  id: string;
  choices: Array<{ delta: { role?: string; content?: string }; finish_reason: string | null }>;
  usage?: Usage;
}

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

interface HealthBody {
  status: string;
  slotsBusy: number;
}

/** The body as the shape the test expects; the assertions that follow check it. */
async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

interface RunningWorker {
  workerId: string;
  port: number;
  pid: number;
  url: string;
  process: ResultPromise<{ cwd: string; reject: false }>;
  kill(): Promise<void>;
}

function workerArgs(options: { workerId: string; port: number; modelPath: string; hiveChannel?: string }): string[] {
  return [
    "--import",
    "tsx",
    "worker/main.ts",
    "--model",
    options.modelPath,
    "--model-name",
    MODEL_NAME,
    "--worker-id",
    options.workerId,
    "--port",
    String(options.port),
    // One thread: the default (every core) runs the tiny model ~500× slower on a 2-core machine.
    "--threads",
    "1",
    "--gpu",
    "cpu",
    "--heartbeat-interval-ms",
    String(HEARTBEAT_INTERVAL_MS),
    ...(options.hiveChannel ? ["--hive-channel", options.hiveChannel] : []),
  ];
}

/** Starts a worker on a free port and resolves once it prints its `listening` line. */
async function startWorker(options: { workerId: string; hiveChannel?: string }): Promise<RunningWorker> {
  const port = await freePort();
  const subprocess = execa("node", workerArgs({ ...options, port, modelPath }), { cwd: REPO_ROOT, reject: false });
  await new Promise<void>((resolve, reject) => {
    let stdout = "";
    subprocess.stdout.on("data", (data: Buffer) => {
      stdout += data.toString();
      if (stdout.includes(`{"event":"listening","port":${port}}`)) resolve();
    });
    subprocess.then((result) => reject(new Error(`worker exited with ${result.exitCode} before listening: ${result.stderr}`)));
  });
  const pid = subprocess.pid ?? 0;
  return {
    workerId: options.workerId,
    port,
    pid,
    url: `http://127.0.0.1:${port}`,
    process: subprocess,
    async kill() {
      if (subprocess.exitCode === null) subprocess.kill("SIGKILL");
      await subprocess;
    },
  };
}

function greedy(overrides: Record<string, unknown>): Record<string, unknown> {
  return { model: MODEL_NAME, messages: [{ role: "user", content: "Hi" }], temperature: 0, ...overrides };
}

function postChat(worker: RunningWorker, body: unknown): Promise<Response> {
  return fetch(`${worker.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function completionText(worker: RunningWorker, body: unknown): Promise<string> {
  const response = await postChat(worker, body);
  expect(response.status).toBe(200);
  return (await json<ChatCompletionBody>(response)).choices[0]?.message.content ?? "";
}

/** The `data:` payloads of a complete server-sent-events body. */
function parseSse(text: string): string[] {
  expect(text.endsWith("\n\n")).toBe(true);
  return text
    .split("\n\n")
    .filter((event) => event !== "")
    .map((event) => {
      expect(event.startsWith("data: ")).toBe(true);
      return event.slice("data: ".length);
    });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Stands in for the hive's loopback channel: records every heartbeat, validated against the schema. */
class HiveChannelStub {
  private readonly received: WorkerHeartbeat[] = [];
  /** Requests that were not a valid heartbeat on the right path. */
  readonly rejected: string[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<HiveChannelStub> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const stub = new HiveChannelStub(server, `http://127.0.0.1:${port}/workers`);
    server.on("request", (request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        const parsed = request.url === "/workers/heartbeat" ? WorkerHeartbeat.safeParse(JSON.parse(body) as unknown) : undefined;
        if (parsed?.success) stub.received.push(parsed.data);
        else stub.rejected.push(`${request.url ?? ""} ${body}`);
        response.writeHead(parsed?.success ? 204 : 400).end();
      });
    });
    return stub;
  }

  heartbeats(workerId: string): WorkerHeartbeat[] {
    return this.received.filter((heartbeat) => heartbeat.workerId === workerId);
  }

  states(workerId: string): string[] {
    return this.heartbeats(workerId).map((heartbeat) => heartbeat.state);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
