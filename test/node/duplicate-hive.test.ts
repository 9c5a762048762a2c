// Two rbee-hive processes given one name and token (two machines set up alike), with real
// processes: the second is refused (409, `hive_already_connected`, said in its log) and retries,
// while the first keeps its connection and its worker serves; once the first stops, the second
// connects. They used to replace each other for ever, and the second's hello dropped the first's
// worker, whose heartbeats the queen then refused for good. A worker the queen did forget so (a
// hive of the name said hello without it while its own was away) is stopped by its hive.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HiveProcess, type HiveProcessOptions, startHiveProcess } from "../../scripts/local-cloud/hive-process.js";
import { type LocalQueen, startLocalQueen } from "../../scripts/local-cloud/queen.js";
import { QueenClient } from "../../scripts/local-cloud/queen-client.js";
import { writeTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import { waitUntil } from "../../shared/wait-until.js";
import { isAlive, processesMentioning, TINY_MODEL } from "./local-cloud.js";

const HIVE = "twin";
const ADMIN_KEY = "rbee_sk_duplicate_hive_test";

describe("a second hive process under a name already connected", () => {
  let dir: string;
  let queen: LocalQueen;
  let client: QueenClient;
  const hives: HiveProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rbee-twin-"));
    queen = await startLocalQueen({ persistDir: join(dir, "queen"), adminKey: ADMIN_KEY, port: 0, heartbeatIntervalMs: 1000 });
    client = new QueenClient(queen.url, ADMIN_KEY);
    await writeTinyLlamaGguf(join(dir, `${TINY_MODEL}.gguf`));
  });

  afterAll(async () => {
    await Promise.all(hives.map((hive) => hive.stop()));
    for (const pid of await processesMentioning(dir)) process.kill(pid, "SIGKILL");
    await queen?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("is refused while the first is connected, leaves the first's worker serving, and connects once the first stops", async () => {
    const modelPath = join(dir, `${TINY_MODEL}.gguf`);
    const { token } = await client.createHive(HIVE);
    const options = (name: string): HiveProcessOptions => ({ queenUrl: queen.url, name: HIVE, token, workerThreads: 1, cacheDir: join(dir, name, "cache"), runDir: join(dir, name, "run"), stopWorkersOnExit: true });
    const first = startHiveProcess(options("first"));
    hives.push(first);
    await first.welcomed;
    const worker = await client.spawnWorker({ hive: HIVE, model: TINY_MODEL, source: pathToFileURL(modelPath).href });
    await client.waitForWorkerReady(worker.id, 60_000);

    const secondLines: string[] = [];
    const second = startHiveProcess({ ...options("second"), onLine: (line) => secondLines.push(line) });
    hives.push(second);
    await waitUntil(async () => secondLines.some((line) => line.includes("HTTP 409") && line.includes("hive_already_connected")), 30_000, "the second hive to be refused");
    expect(secondLines.some((line) => line.includes("connected to queen"))).toBe(false);

    // The first hive's worker is still its, and serves.
    const openai = new OpenAI({ baseURL: `${queen.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
    const answer = await openai.chat.completions.create({ model: TINY_MODEL, messages: [{ role: "user", content: "hi" }], max_tokens: 4 });
    expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);
    // Still the queen's and beating: back to ready once its next heartbeat (batched, ≤ 1 s) says so.
    await waitUntil(async () => (await client.listWorkers()).find((each) => each.id === worker.id)?.state === "ready", 10_000, "the first hive's worker to be listed ready", 200);

    await first.stop();
    await second.welcomed;
  }, 180_000);

  it("stops a worker the queen has forgotten, which it would refuse for ever, and says why once", async () => {
    const name = "orphans";
    const { token } = await client.createHive(name);
    const options = (dirs: string, onLine?: (line: string) => void): HiveProcessOptions => ({
      queenUrl: queen.url,
      name,
      token,
      workerThreads: 1,
      cacheDir: join(dir, dirs, "cache"),
      runDir: join(dir, dirs, "run"),
      stopWorkersOnExit: false,
      ...(onLine ? { onLine } : {}),
    });
    const first = startHiveProcess(options("orphans-first"));
    hives.push(first);
    await first.welcomed;
    const worker = await client.spawnWorker({ hive: name, model: TINY_MODEL, source: pathToFileURL(join(dir, `${TINY_MODEL}.gguf`)).href });
    await client.waitForWorkerReady(worker.id, 60_000);
    await first.stop(); // its worker runs on, for the next hive of this run folder to re-attach

    // Another process under the name says hello without that worker: the queen forgets it.
    const other = startHiveProcess(options("orphans-other"));
    hives.push(other);
    await other.welcomed;
    await other.stop();

    const lines: string[] = [];
    const again = startHiveProcess(options("orphans-first", (line) => lines.push(line)));
    hives.push(again);
    await waitUntil(async () => !isAlive(worker.pid), 60_000, "the refused worker to be stopped");
    expect(lines.filter((line) => line.includes(`the queen refuses worker ${worker.id}`))).toHaveLength(1);
  }, 180_000);
});
