// One request followed through the logs of all three roles: the queen's JSON line, the hive's
// relay line and the worker's request line carry the same request id (the queen's relay id, sent
// on as X-Request-Id), and each says what it saw of the request.
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { pollWindowUs } from "../../worker/token-poller.js";
import { type LocalCloud, startLocalCloud, TINY_MODEL, waitUntil } from "./local-cloud.js";

const HIVE = "logs-hive";
const POLL_US = 1500;

/** The JSON objects among `lines` (other lines, such as wrangler's own, skipped). */
function jsonLines(lines: readonly string[]): Array<Record<string, unknown>> {
  return lines.flatMap((line) => {
    const start = line.indexOf("{");
    if (start < 0) return [];
    try {
      const parsed: unknown = JSON.parse(line.slice(start));
      return typeof parsed === "object" && parsed !== null ? [parsed as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

describe("request logs across queen, hive and worker", () => {
  let cloud: LocalCloud;
  let workerId: string;
  const queenLines: string[] = [];

  beforeAll(async () => {
    // wrangler hands the queen's console.log lines to this process's console.log.
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void queenLines.push(args.map(String).join(" ")));
    // The hive's setting for its workers' polling, from its environment, to see it reach the worker.
    cloud = await startLocalCloud({ heartbeatIntervalMs: 1000, hiveName: HIVE, queenLogLevel: "log", hiveEnv: { RBEE_WORKER_POLL_US: String(POLL_US) } });
    const worker = await cloud.client.spawnWorker({ hive: HIVE, model: TINY_MODEL, source: cloud.modelSource });
    workerId = worker.id;
    await cloud.client.waitForWorkerReady(worker.id, 60_000);
  });

  afterAll(async () => {
    await cloud?.stop();
    vi.restoreAllMocks();
  });

  it("names one streamed chat request by the same id in the queen's, the hive's and the worker's log lines", async () => {
    const response = await fetch(`${cloud.queen.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${cloud.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: TINY_MODEL, stream: true, max_tokens: 8, messages: [{ role: "user", content: "Hello" }] }),
    });
    expect(response.status).toBe(200);
    await response.text();
    const requestId = response.headers.get("x-request-id");
    expect(requestId).toMatch(/^req_/);

    const queenLine = () => jsonLines(queenLines).find((line) => line.event === "inference" && line.request_id === requestId);
    await waitUntil(() => queenLine() !== undefined, 15_000, "the queen's line for the request");
    expect(queenLine()).toMatchObject({ relay_id: requestId, status: 200, model: TINY_MODEL, hive: HIVE, worker: workerId });

    const hiveLine = () => jsonLines(cloud.hiveLog).find((line) => line.request_id === requestId && line.outcome !== undefined);
    await waitUntil(() => hiveLine() !== undefined, 15_000, "the hive's line for the request");
    expect(hiveLine()).toMatchObject({ role: "hive", level: "info", worker: workerId, status: 200, outcome: "answered", path: "/v1/chat/completions" });
    expect(hiveLine()?.duration_ms).toEqual(expect.any(Number));
    expect(hiveLine()?.time).toEqual(expect.any(String));

    const workerLog = join(cloud.cacheDir, "logs", `${workerId}.log`);
    const workerLine = async () => jsonLines((await readFile(workerLog, "utf8")).split("\n")).find((line) => line.request_id === requestId);
    await waitUntil(async () => (await workerLine()) !== undefined, 15_000, "the worker's line for the request");
    const line = await workerLine();
    expect(line).toMatchObject({ role: "worker", level: "info", route: "/v1/chat/completions", status: 200, outcome: "answered" });
    expect(line?.prompt_tokens).toBeGreaterThan(0);
    expect(line?.completion_tokens).toBeGreaterThan(0);
    expect(line?.duration_ms).toEqual(expect.any(Number));
  });

  it("logs a stream its client left with the tokens it used, once its generation stopped", async () => {
    const leaving = new AbortController();
    const response = await fetch(`${cloud.queen.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${cloud.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: TINY_MODEL, stream: true, max_tokens: 3000, logit_bias: { "4": -100 }, messages: [{ role: "user", content: "Hello" }] }),
      signal: leaving.signal,
    });
    const requestId = response.headers.get("x-request-id");
    const reader = response.body?.getReader();
    let read = 0;
    while (read < 2000) read += (await reader?.read())?.value?.byteLength ?? 2000;
    leaving.abort();

    const workerLog = join(cloud.cacheDir, "logs", `${workerId}.log`);
    const workerLine = async () => jsonLines((await readFile(workerLog, "utf8")).split("\n")).find((line) => line.request_id === requestId);
    await waitUntil(async () => (await workerLine()) !== undefined, 15_000, "the worker's line for the left stream");
    const line = await workerLine();
    expect(line).toMatchObject({ route: "/v1/chat/completions", outcome: "cancelled" });
    expect(line?.prompt_tokens).toBeGreaterThan(0);
    expect(line?.completion_tokens).toBeGreaterThan(0);
    expect(line?.completion_tokens).toBeLessThan(3000);
  }, 30_000);

  it("stops the generation of a non-streamed request at the timeout its SDK declared, and of any retry the SDK sent after it", async () => {
    const workerLog = join(cloud.cacheDir, "logs", `${workerId}.log`);
    const linesBefore = (await readFile(workerLog, "utf8")).split("\n").length;
    // The SDK sends a request's own timeout (X-Stainless-Timeout: 1); the answer would take seconds.
    const client = new OpenAI({ baseURL: `${cloud.queen.url}/v1`, apiKey: cloud.apiKey, maxRetries: 1 });
    const asked = { model: TINY_MODEL, max_tokens: 4000, logit_bias: { "4": -100 }, messages: [{ role: "user" as const, content: "Hello" }] };
    await expect(client.chat.completions.create(asked, { timeout: 1000 })).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    const abandoned = async () =>
      jsonLines((await readFile(workerLog, "utf8")).split("\n").slice(linesBefore)).filter((line) => line.route === "/v1/chat/completions");
    // The first was stopped at the client's timeout; the retry, queued behind it, either met the
    // same end or timed out in the queue before reaching the worker.
    await waitUntil(async () => (await abandoned()).length >= 1, 15_000, "the worker's line for the request");
    for (const line of await abandoned()) {
      expect(line).toMatchObject({ outcome: "cancelled" });
      expect(line.completion_tokens).toBeLessThan(4000);
    }
  }, 30_000);

  it("logs the worker's start as JSON lifecycle lines, with the device and the polling the hive set", async () => {
    const lines = jsonLines((await readFile(join(cloud.cacheDir, "logs", `${workerId}.log`), "utf8")).split("\n"));
    // The test cloud's workers run 1 thread on the CPU: they poll unless this machine has a single CPU.
    const pollUs = pollWindowUs(POLL_US, { device: "cpu", threads: 1, cpus: availableParallelism() });
    expect(lines).toContainEqual(
      expect.objectContaining({ role: "worker", worker_id: workerId, msg: expect.stringMatching(/^model loaded; serving /), device: "cpu", poll_us: pollUs }),
    );
    expect(jsonLines(cloud.hiveLog)).toContainEqual(expect.objectContaining({ role: "hive", msg: expect.stringContaining("queen welcomed hive") }));
  });
});
