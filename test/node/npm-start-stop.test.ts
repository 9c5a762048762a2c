// How `npm start` stops when asked to: the usage and metrics of the requests answered in the
// last second before a SIGINT are still there after the next start (the queen writes what it holds
// in its batches before workerd goes), SIGHUP to its node process stops it as SIGINT does, and a
// SIGHUP to npm alone — which npm does not pass on and dies of — still stops everything. And the
// next start leaves a policy's min_workers to the queen rather than start a worker beside them.
// (test/node/npm-start.test.ts: Ctrl-C after a queen restart.)
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreeLoopbackPort } from "../../shared/free-port.js";
import { descendants, runNpmStart, type NpmStart } from "../support/npm-start-process.js";
import { isAlive, waitUntil } from "./local-cloud.js";

const API_KEY = "rbee_sk_npm_start_stop_test";
/** Chats answered right before the stop: all inside one usage and one metrics batch. */
const LAST_CHATS = 5;

describe("npm start, stopped", () => {
  let stateDir = "";
  let port = 0;
  const starts: NpmStart[] = [];

  /** An npm start on this state folder and port, once it is ready. */
  const start = async (): Promise<NpmStart> => {
    const started = runNpmStart(stateDir, port, API_KEY);
    starts.push(started);
    await started.ready();
    return started;
  };
  const chat = async (): Promise<void> => {
    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: API_KEY, maxRetries: 0 });
    await openai.chat.completions.create({ model: "rbee-tiny", messages: [{ role: "user", content: "Hello" }], max_tokens: 4 });
  };
  const get = async (path: string): Promise<Response> => fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  /** start.ts, the node process below npm (package.json's `exec node`). */
  const nodeOf = (npmStart: NpmStart): number => {
    const [node] = descendants(npmStart.pid);
    if (node === undefined) throw new Error("npm start has no node process below npm");
    return node;
  };

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "rbee-start-stop-"));
    port = await findFreeLoopbackPort();
  });

  afterAll(async () => {
    for (const started of starts) await started.kill();
    await rm(stateDir, { recursive: true, force: true });
  });

  it("keeps the usage and metrics of the requests answered just before SIGINT", { timeout: 240_000 }, async () => {
    const first = await start();
    for (let i = 0; i < LAST_CHATS; i += 1) await chat();
    // Well within the queen's one-second batches: what it counted is still in its isolate.
    process.kill(first.pid, "SIGINT");
    expect((await first.process).exitCode).toBe(0);

    await start();
    const usage = (await (await get("/v1/usage")).json()) as { data: { requests: number }[] };
    expect(usage.data.reduce((sum, row) => sum + row.requests, 0)).toBe(LAST_CHATS);
    const metrics = await (await get("/metrics")).text();
    const answered = metrics.split("\n").filter((line) => line.startsWith("rbee_requests_total{") && line.includes('status="200"'));
    expect(answered.reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0)).toBe(LAST_CHATS);
  });

  it("starts no worker of its own beside the one a policy's min_workers has the queen start", { timeout: 240_000 }, async () => {
    const running = starts.at(-1) ?? (await start());
    const policy = await fetch(`http://127.0.0.1:${port}/v1/models/rbee-tiny/policy`, {
      method: "PUT",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ min_workers: 1, max_workers: 1 }),
    });
    expect(policy.status).toBe(200);
    process.kill(running.pid, "SIGINT");
    expect((await running.process).exitCode).toBe(0);

    const next = await start();
    expect(next.output).toMatch(/the policy of 'rbee-tiny' keeps workers running, and the queen started wrk_\w+: waiting for it to be ready/);
    expect(next.output).not.toContain("starting a worker for 'rbee-tiny'");
    // Time for a second spawn, had one been asked for, to be listed.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const workers = (await (await get("/v1/workers")).json()) as { data: { model: string; state: string }[] };
    expect(workers.data.filter((worker) => worker.model === "rbee-tiny" && worker.state !== "stopped")).toHaveLength(1);
  });

  it("stops on SIGHUP to its node process as on SIGINT, and exits 0", { timeout: 60_000 }, async () => {
    const running = starts.at(-1) ?? (await start());
    const started = await running.started();
    process.kill(nodeOf(running), "SIGHUP");
    expect((await running.process).exitCode).toBe(0);
    expect(running.output).toContain("SIGHUP: stopping the hive, its workers and the queen");
    await waitUntil(() => started.every((pid) => !isAlive(pid)), 20_000, "every started process to exit");
  });

  it("stops everything when a SIGHUP to npm alone kills npm, saying why", { timeout: 120_000 }, async () => {
    const running = await start();
    const started = await running.started();
    process.kill(running.pid, "SIGHUP");
    expect((await running.process).signal).toBe("SIGHUP"); // npm passes on SIGINT and SIGTERM only
    await waitUntil(() => started.every((pid) => !isAlive(pid)), 30_000, "every started process to exit");
    expect(running.output).toContain(`its parent (pid ${running.pid}) is gone (killed, or sent SIGHUP, which npm does not pass on)`);
  });
});
