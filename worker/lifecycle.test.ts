// The worker's lifecycle as a real process: listening before it loads (answering 503 `loading`),
// draining on SIGTERM, failing on a corrupt model, and refusing bad flags or a missing secret,
// each with the exit code, stdout lines and heartbeats a supervising hive relies on.
//
// A model that loads slowly is made honestly, without any test-only switch in the worker: its
// model path is a named pipe, and the worker's opening of the file waits until the test opens the
// other end, so "still loading" lasts exactly as long as a test needs.
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { type FileHandle, open, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { listeningLine, readyLine } from "../shared/protocol/listening-line.js";
import { HiveChannelStub } from "../test/support/hive-channel-stub.js";
import {
  greedyChat,
  health,
  json,
  post,
  REPO_ROOT,
  startListeningWorker,
  startWorker,
  workerArgs,
  workerSecretEnv,
  writeTinyModel,
  type ChatCompletionBody,
  type ErrorBody,
  type RunningWorker,
  type TinyModel,
} from "../test/support/running-worker.js";
import { findFreeLoopbackPort } from "../shared/free-port.js";
import { WORKER_SECRET_ENV } from "../shared/protocol/worker-launch.js";

let model: TinyModel;
let hive: HiveChannelStub;

beforeAll(async () => {
  model = await writeTinyModel();
  hive = await HiveChannelStub.start();
});

afterAll(async () => {
  await hive?.close();
  await model?.remove();
});

/** A named pipe in the model's folder: a model file whose opening waits for the test to open its other end. */
async function modelPipe(name: string): Promise<string> {
  const path = join(model.dir, name);
  await execa("mkfifo", [path]);
  return path;
}

/** How many of process `pid`'s threads wait in the kernel for a pipe's other end to be opened. */
async function threadsWaitingOnPipeOpen(pid: number | undefined): Promise<number> {
  if (pid === undefined) throw new Error("the worker has no pid");
  const tasks = await readdir(`/proc/${pid}/task`);
  const waits = await Promise.all(tasks.map((task) => readFile(`/proc/${pid}/task/${task}/wchan`, "utf8").catch(() => "")));
  return waits.filter((wchan) => wchan === "wait_for_partner").length;
}

/** After SIGTERM: exit 0, and the hive heard it drain and stop. */
async function expectStoppedCleanly(worker: RunningWorker): Promise<void> {
  expect((await worker.process).exitCode).toBe(0);
  const states = hive.states(worker.workerId);
  expect(states).toContain("draining");
  expect(states.at(-1)).toBe("stopped");
}

describe("starting", () => {
  it("prints its listening line before it loads the model, and its ready line once it serves", async () => {
    const worker = await startWorker({ workerId: "wrk_lines1", hiveChannel: hive.url, modelPath: model.path });
    try {
      expect((await health(worker)).status).toBe("ready");
      worker.process.kill("SIGTERM");
      const result = await worker.process;
      expect(result.stdout.split("\n")).toEqual([listeningLine(worker.port), readyLine(worker.port)]);
      // Heartbeats said loading, with the fraction loaded, before ready.
      const beats = hive.heartbeats(worker.workerId);
      expect(beats[0]).toMatchObject({ state: "loading", loadProgress: expect.any(Number) });
      expect(beats.map((beat) => beat.state)).toContain("ready");
    } finally {
      await worker.kill();
    }
  });

  it.skipIf(process.platform === "win32")(
    "answers 503 loading with its progress while the model loads, and heartbeats loading, then fails and exits 1 when the file is bad",
    async () => {
      const pipe = await modelPipe("slow-corrupt.gguf");
      const worker = await startListeningWorker({ workerId: "wrk_loading1", hiveChannel: hive.url, modelPath: pipe });
      try {
        const chat = await post(worker, "/v1/chat/completions", greedyChat());
        expect(chat.status).toBe(503);
        expect(Number(chat.headers.get("retry-after"))).toBeGreaterThan(0);
        const refusal = await json<ErrorBody & { error: { load_progress: number } }>(chat);
        expect(refusal.error).toMatchObject({ code: "loading", type: "server_error", load_progress: expect.any(Number) });
        expect((await post(worker, "/v1/completions", { model: "m", prompt: "x" })).status).toBe(503);
        expect((await post(worker, "/v1/embeddings", { model: "m", input: "x" })).status).toBe(503);
        expect(await health(worker)).toMatchObject({ status: "loading", loadProgress: expect.any(Number), slotsTotal: 0 });
        await vi.waitFor(() => expect(hive.heartbeats(worker.workerId).at(-1)).toMatchObject({ state: "loading", port: worker.port, loadProgress: expect.any(Number) }), {
          timeout: 10_000,
        });

        // The "model" arrives, and is not a GGUF: the worker reports why and exits 1.
        await writeFile(pipe, randomBytes(1024)).catch(() => {}); // EPIPE if the worker stops reading early
        const result = await worker.process;
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toContain(`could not load model ${pipe}`);
        expect(result.stdout).toBe(listeningLine(worker.port));
        expect(hive.heartbeats(worker.workerId).at(-1)).toMatchObject({ state: "failed", failure: expect.stringContaining("could not load model") });
      } finally {
        await worker.kill();
      }
    },
  );

  // Linux only: it needs /proc to see the worker wait on the pipe without releasing it.
  it.runIf(process.platform === "linux")("stops on SIGTERM while it opens the model: a stopped heartbeat, exit 0, never ready", async () => {
    const pipe = await modelPipe("never-arrives.gguf");
    const worker = await startListeningWorker({ workerId: "wrk_loadstop1", hiveChannel: hive.url, modelPath: pipe });
    let writeEnd: FileHandle | undefined;
    try {
      // Opening the pipe's other end would let the worker's read begin, and fail at once (a pipe
      // cannot be read at an offset): the signal must come while the worker still waits to open it.
      await vi.waitFor(async () => expect(await threadsWaitingOnPipeOpen(worker.process.pid)).toBeGreaterThan(0), { timeout: 30_000, interval: 50 });
      worker.process.kill("SIGTERM");
      await vi.waitFor(() => expect(hive.states(worker.workerId).at(-1)).toBe("stopped"), { timeout: 10_000 });
      // A process cannot exit while a thread of it waits to open a file: the "disk" answers now.
      writeEnd = await open(pipe, constants.O_WRONLY | constants.O_NONBLOCK);
      // With nothing to drain, "draining" lasts a moment: a heartbeat still on its way when it
      // began is followed by one that reads the state afresh, which may already say "stopped".
      expect((await worker.process).exitCode).toBe(0);
      expect(hive.states(worker.workerId)).toContain("loading");
      expect(hive.states(worker.workerId)).not.toContain("ready");
      expect((await worker.process).stdout).toBe(listeningLine(worker.port));
    } finally {
      await writeEnd?.close();
      await worker.kill();
    }
  });
});

describe("shutting down", () => {
  it("finishes an in-flight request on SIGTERM, sends a stopped heartbeat and exits 0", async () => {
    const worker = await startWorker({ workerId: "wrk_draining1", hiveChannel: hive.url, modelPath: model.path });
    try {
      const inFlight = post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 1500 }));
      await vi.waitFor(async () => expect((await health(worker)).slotsBusy).toBe(1), { timeout: 10_000 });
      // The hive hears "busy" while the only slot is taken.
      await vi.waitFor(() => expect(hive.states(worker.workerId)).toContain("busy"), { timeout: 10_000 });
      worker.process.kill("SIGTERM");

      const response = await inFlight;
      expect(response.status).toBe(200);
      expect((await json<ChatCompletionBody>(response)).usage.completion_tokens).toBe(1500);
      await expectStoppedCleanly(worker);
    } finally {
      await worker.kill();
    }
  });
});

describe("failing to start", () => {
  it("exits 1 and heartbeats failed with the reason when the GGUF is corrupt", async () => {
    const corruptPath = join(model.dir, "corrupt.gguf");
    await writeFile(corruptPath, randomBytes(64 * 1024));
    const port = await findFreeLoopbackPort();
    const result = await execa("node", workerArgs({ workerId: "wrk_corrupt1", port, modelPath: corruptPath, hiveChannel: hive.url }), {
      cwd: REPO_ROOT,
      env: workerSecretEnv().env,
      reject: false,
      timeout: 30_000,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`could not load model ${corruptPath}`);
    // It listened (to answer 503 loading) before it found the file corrupt, and never said ready.
    expect(result.stdout).toBe(listeningLine(port));
    const last = hive.heartbeats("wrk_corrupt1").at(-1);
    expect(last?.state).toBe("failed");
    expect(last?.failure).toContain("could not load model");
  });

  it("fails naming --context-size when a slot would hold more than the model was trained on", async () => {
    const port = await findFreeLoopbackPort();
    const args = workerArgs({ workerId: "wrk_toolong1", port, modelPath: model.path, hiveChannel: hive.url, extraArgs: ["--context-size", "8192"] });
    const result = await execa("node", args, { cwd: REPO_ROOT, env: workerSecretEnv().env, reject: false, timeout: 30_000 });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("--context-size 8192 is more than the model was trained on (4096 tokens)");
    expect(hive.heartbeats("wrk_toolong1").at(-1)?.state).toBe("failed");
  });

  it("exits 2 naming the flag, what was expected and what arrived when a flag is bad", async () => {
    const result = await execa("node", ["--import", "tsx", "worker/main.ts", "--model", "x.gguf", "--port", "abc"], {
      cwd: REPO_ROOT,
      reject: false,
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`--model-name: expected a model name, got nothing`);
  });

  it("exits 2 naming the variable when its hive gave it no secret, and never listens", async () => {
    const port = await findFreeLoopbackPort();
    const result = await execa("node", workerArgs({ workerId: "wrk_nosecret1", port, modelPath: model.path }), {
      cwd: REPO_ROOT,
      env: { [WORKER_SECRET_ENV]: "" },
      reject: false,
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`${WORKER_SECRET_ENV}: expected a secret of at least`);
    expect(result.stdout).toBe("");
  });
});
