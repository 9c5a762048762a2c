// Drill (slow, three full starts; `npm run drills`): `npm start` started again on the same state
// folder, as a user does after a crash and after Ctrl-C. After SIGKILL to the whole process group
// (npm, scripts/start.ts, workerd, the hive: a crash), the worker, detached, survives; the next
// npm start must reuse it, not start a second copy of the model beside it. After Ctrl-C the old
// worker is stopped with everything else, and the next start's must be the only one listed. Either
// way a request made the moment /v1/models lists the model as loaded is served.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreeLoopbackPort } from "../../shared/free-port.js";
import { isAlive, processesMentioning, TINY_MODEL, waitUntil } from "../node/local-cloud.js";
import { runNpmStart, type NpmStart } from "../support/npm-start-process.js";

const CASE_TIMEOUT_MS = 240_000;
const API_KEY = `rbee_sk_${"d".repeat(32)}`;

interface ListedWorker {
  id: string;
  model: string;
  state: string;
  pid: number;
}

describe("drill: npm start started again after a crash and after Ctrl-C", () => {
  let stateDir = "";
  let port = 0;
  const all: NpmStart[] = [];

  const call = (path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${port}/v1${path}`, { ...init, headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" } });
  const workers = async (): Promise<ListedWorker[]> => ((await (await call("/workers")).json()) as { data: ListedWorker[] }).data;
  /** The worker processes running from this state folder's worker catalog. */
  const workerProcesses = () => processesMentioning(`${stateDir}/cache/workers/`);

  /**
   * Starts npm start and polls /v1/models until it lists the model as loaded (not waiting for the
   * banner); ms taken. Asserts the model is not listed at all before the hive has connected.
   */
  async function startUntilListed(): Promise<{ start: NpmStart; listedAfterMs: number }> {
    const since = Date.now();
    const start = runNpmStart(stateDir, port, API_KEY);
    all.push(start);
    await waitUntil(
      async () => {
        if (start.process.exitCode !== null) throw new Error(`npm start exited (${start.process.exitCode}):\n${start.output}`);
        const hiveConnected = start.output.includes("[hive] connected to queen"); // read before asking: the hello follows it
        const response = await call("/models").catch(() => undefined); // the queen is not up yet
        if (response?.status !== 200) return false;
        const { data } = (await response.json()) as { data: { id: string; state?: string }[] };
        const listed = data.find((model) => model.id === TINY_MODEL);
        if (!hiveConnected) expect(listed, "a model listed before its hive connected").toBeUndefined();
        return listed?.state === "loaded";
      },
      120_000,
      `npm start to list ${TINY_MODEL} as loaded`,
    );
    return { start, listedAfterMs: Date.now() - since };
  }

  /** One chat request, no retries: its status and body. */
  async function chatAtOnce(): Promise<{ status: number; body: string }> {
    const response = await call("/chat/completions", {
      method: "POST",
      body: JSON.stringify({ model: TINY_MODEL, messages: [{ role: "user", content: "Hello again" }], max_tokens: 4 }),
    });
    return { status: response.status, body: await response.text() };
  }

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "rbee-restart-"));
    port = await findFreeLoopbackPort();
  });

  afterAll(async () => {
    for (const start of all) await start.kill();
    await rm(stateDir, { recursive: true, force: true });
  });

  it("after SIGKILL to the whole npm start, the next one reuses the surviving worker and serves the first request", { timeout: CASE_TIMEOUT_MS }, async () => {
    const { start: first } = await startUntilListed();
    await first.ready();
    const [survivor, ...others] = await workers();
    expect(others).toEqual([]);
    expect(survivor?.model).toBe(TINY_MODEL);
    expect(await workerProcesses()).toEqual([survivor?.pid]);

    // A crash: every process of the group dies at once; the worker runs in its own session.
    const started = await first.started();
    process.kill(-first.pid, "SIGKILL");
    await waitUntil(() => started.every((pid) => pid === survivor?.pid || !isAlive(pid)), 30_000, "the npm start process group to die");
    expect(isAlive(survivor?.pid ?? 0)).toBe(true);

    const { start: second, listedAfterMs } = await startUntilListed();
    const answer = await chatAtOnce();
    expect(answer.status, answer.body).toBe(200);
    await second.ready();
    expect(second.output).toContain(`reusing worker ${survivor?.id}`);
    const listed = (await workers()).filter((worker) => worker.model === TINY_MODEL);
    expect(listed.map((worker) => [worker.id, worker.pid])).toEqual([[survivor?.id, survivor?.pid]]);
    expect(await workerProcesses()).toEqual([survivor?.pid]); // nothing spawned beside it
    console.log(`[npm-start-restart] after SIGKILL: ${TINY_MODEL} listed loaded ${listedAfterMs} ms after the restart, first request 200, worker ${survivor?.id} (pid ${survivor?.pid}) reused`);
  });

  it("after Ctrl-C, the next npm start serves the first request and lists only its own worker", { timeout: CASE_TIMEOUT_MS }, async () => {
    const previous = all.at(-1);
    if (previous === undefined) throw new Error("the previous case left no npm start running");
    if (previous.process.exitCode !== null) await previous.ready(); // it failed: say how
    const [old] = await workers();
    // Ctrl-C in a terminal sends SIGINT to the whole foreground process group.
    process.kill(-previous.pid, "SIGINT");
    await previous.process;
    await waitUntil(async () => (await workerProcesses()).length === 0, 30_000, "the old worker to stop");

    const { start: next, listedAfterMs } = await startUntilListed();
    const answer = await chatAtOnce();
    expect(answer.status, answer.body).toBe(200);
    await next.ready();
    const listed = await workers();
    expect(listed.map((worker) => worker.id)).not.toContain(old?.id);
    expect(listed.filter((worker) => worker.model === TINY_MODEL)).toHaveLength(1);
    console.log(`[npm-start-restart] after Ctrl-C: ${TINY_MODEL} listed loaded ${listedAfterMs} ms after the restart, first request 200, old worker ${old?.id} not listed`);
  });
});
