// Two hives of one name on one machine, as two `npm start`s side by side run them: one cache
// folder (one model catalog, nothing fetched twice) but a run folder each (--run-dir), so each
// listens on its own channel socket with its own worker key, its queen welcomes it and it serves;
// and a restarted hive finds only the workers of its own run folder.
import { lstat, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HiveProcess, type HiveProcessOptions, startHiveProcess } from "../../scripts/local-cloud/hive-process.js";
import { type LocalQueen, startLocalQueen } from "../../scripts/local-cloud/queen.js";
import { QueenClient } from "../../scripts/local-cloud/queen-client.js";
import { writeTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import { processesMentioning, TINY_MODEL } from "./local-cloud.js";

/** What `npm start` names its hive, in every state folder. */
const HIVE = "local";
const ADMIN_KEY = "rbee_sk_side_by_side_test";

/** One `npm start`'s share: its own queen and run folder, the machine's cache folder. */
interface Side {
  queen: LocalQueen;
  client: QueenClient;
  runDir: string;
  hiveOptions: HiveProcessOptions;
  hive: HiveProcess;
  worker?: { id: string; pid: number };
}

describe("two hives of one name on one machine, each with its own run folder", () => {
  let dir: string;
  let modelSource: string;
  const sides: Side[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rbee-side-"));
    const modelPath = join(dir, "rbee-tiny.gguf");
    await writeTinyLlamaGguf(modelPath);
    modelSource = pathToFileURL(modelPath).href;
    // One after the other: each workerd takes a while to start, and this machine may be small.
    for (const name of ["a", "b"]) {
      const queen = await startLocalQueen({ persistDir: join(dir, name, "queen"), adminKey: ADMIN_KEY, port: 0, heartbeatIntervalMs: 1000 });
      const client = new QueenClient(queen.url, ADMIN_KEY);
      const { token } = await client.createHive(HIVE);
      const runDir = join(dir, name, "hive");
      // Workers stay up when a hive stops, so the last test can restart one; afterAll ends them.
      const hiveOptions: HiveProcessOptions = { queenUrl: queen.url, name: HIVE, token, workerThreads: 1, cacheDir: join(dir, "cache"), runDir, stopWorkersOnExit: false };
      sides.push({ queen, client, runDir, hiveOptions, hive: startHiveProcess(hiveOptions) });
    }
  });

  afterAll(async () => {
    await Promise.all(sides.map((side) => side.hive.stop()));
    for (const pid of await processesMentioning(dir)) process.kill(pid, "SIGKILL");
    await Promise.all(sides.map((side) => side.queen.dispose()));
    await rm(dir, { recursive: true, force: true });
  });

  it("welcomes both, each listening on its own socket with its own worker key", async () => {
    await Promise.all(sides.map((side) => side.hive.welcomed));
    for (const side of sides) expect((await lstat(join(side.runDir, `hive-${HIVE}.sock`))).isSocket()).toBe(true);
    const keys = await Promise.all(sides.map((side) => readFile(join(side.runDir, `hive-${HIVE}.key`), "utf8")));
    expect(keys[0]).not.toBe(keys[1]);
  });

  it("serves a model from each, through a worker of its own", async () => {
    for (const side of sides) {
      side.worker = await side.client.spawnWorker({ hive: HIVE, model: TINY_MODEL, source: modelSource });
      await side.client.waitForWorkerReady(side.worker.id, 60_000);
    }
    const [a, b] = sides.map((side) => side.worker);
    expect(a?.pid).not.toBe(b?.pid);
    for (const side of sides) {
      // Each worker heartbeats to its own hive's socket, so each queen lists exactly its own.
      expect((await side.client.listWorkers()).map((worker) => worker.id)).toEqual([side.worker?.id]);
      const openai = new OpenAI({ baseURL: `${side.queen.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
      const completion = await openai.chat.completions.create({ model: TINY_MODEL, messages: [{ role: "user", content: "Hello" }], max_tokens: 8 });
      expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    }
  });

  it("re-attaches a worker only to the restarted hive of its own run folder", async () => {
    const [a, b] = sides;
    if (!a?.worker || !b?.worker) throw new Error("the previous test started no workers");
    await b.hive.stop();
    b.hive = startHiveProcess(b.hiveOptions);
    await b.hive.welcomed;
    // What npm start reuses instead of loading a second copy: b's worker, never a's.
    expect(b.hive.workersAtStart).toEqual([b.worker.id]);
    await b.client.waitForWorkerReady(b.worker.id, 15_000);
    expect((await a.client.listWorkers()).map((worker) => worker.id)).toEqual([a.worker.id]);
  });
});
