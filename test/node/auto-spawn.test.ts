// Ask for a model by name and rbee runs it: a real queen, a real hive with the tiny model in its
// catalog and no worker, and the official OpenAI client. The first requests start one worker,
// not several; a request with `keep_alive: 0` lets the queen unload it once answered. A model a
// worker_spawn served under a name of its own is started again under that name. A model's
// policy keeps min_workers running with no request at all, and its source lets the queen start
// a model no hive has yet (the hive fetches it as part of the spawn).
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelNameFromSource } from "../../shared/models/model-name.js";
import { type LocalCloud, openAiClient, startLocalCloud, waitUntil } from "./local-cloud.js";

const HEARTBEAT_INTERVAL_MS = 500;
/** Between checks that call the queen: the admin key's default rate limit is 600 requests a minute. */
const POLL_MS = 250;

interface ListedModel {
  id: string;
  state: string;
}

describe("auto-spawn", () => {
  let cloud: LocalCloud;
  let model: string;

  beforeAll(async () => {
    cloud = await startLocalCloud({ heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, hiveName: "spawn-hive" });
    const downloaded = await cloud.client.runJob({ operation: "model_download", hive: "spawn-hive", model: cloud.modelSource });
    expect(downloaded.type).toBe("done");
    model = modelNameFromSource(cloud.modelSource);
  }, 120_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  async function modelState(name = model): Promise<string | undefined> {
    const response = await fetch(`${cloud.queen.url}/v1/models`, { headers: { authorization: `Bearer ${cloud.apiKey}` } });
    const listed = ((await response.json()) as { data: ListedModel[] }).data;
    return listed.find((each) => each.id === name)?.state;
  }

  async function workersOfModel(name = model): Promise<{ id: string; state: string }[]> {
    return (await cloud.client.listWorkers()).filter((worker) => worker.model === name);
  }

  it("lists a catalog model nobody serves as loadable", async () => {
    await waitUntil(async () => (await modelState()) === "loadable", 10_000, "the catalog model to be listed as loadable");
    expect(await workersOfModel()).toEqual([]);
  });

  it("answers concurrent first requests for it from one worker it starts", async () => {
    const client = openAiClient(cloud);
    const answers = await Promise.all(
      Array.from({ length: 4 }, (_, n) => client.chat.completions.create({ model, messages: [{ role: "user", content: `Hello ${n}` }], max_tokens: 8 })),
    );
    for (const answer of answers) expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(await workersOfModel()).toHaveLength(1);
    expect(await modelState()).toBe("loaded");
  }, 120_000);

  it("unloads the worker once answered when the request asks for keep_alive 0, and the model is loadable again", async () => {
    const response = await fetch(`${cloud.queen.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${cloud.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "Last one" }], max_tokens: 4, keep_alive: 0 }),
    });
    expect(response.status).toBe(200);
    await waitUntil(async () => (await workersOfModel()).length === 0, 30_000, "the idle worker to be stopped");
    await waitUntil(async () => (await modelState()) === "loadable", 10_000, "the model to be loadable again");
  }, 60_000);

  it("starts a model again under the name a worker_spawn served it as, once that worker was unloaded", async () => {
    // As `npm start -- --model-name chat` does: the name is not the one the file's own gives.
    const named = "served-as-chat";
    const spawned = await cloud.client.runJob({ operation: "worker_spawn", hive: "spawn-hive", model: named, source: cloud.modelSource });
    expect(spawned.type).toBe("done");
    const client = openAiClient(cloud);
    const last = { model: named, messages: [{ role: "user" as const, content: "Bye" }], max_tokens: 4, keep_alive: 0 };
    expect((await client.chat.completions.create(last)).model).toBe(named);
    await waitUntil(async () => (await workersOfModel(named)).length === 0, 30_000, "the idle worker to be stopped", POLL_MS);

    await waitUntil(async () => (await modelState(named)) === "loadable", 10_000, "the served name to be listed as loadable", POLL_MS);
    const again = await client.chat.completions.create({ model: named, messages: [{ role: "user", content: "Hello again" }], max_tokens: 4 });
    expect(again.model).toBe(named);
    expect(again.choices[0]?.message.content?.length).toBeGreaterThan(0);
    const [worker] = await workersOfModel(named);
    expect(worker).toBeDefined();
    expect(await modelState()).toBe("loadable"); // the file's own name still answers too
    expect((await admin("DELETE", `/v1/workers/${worker!.id}`)).status).toBe(202);
    await waitUntil(async () => (await workersOfModel(named)).length === 0, 30_000, "the deleted worker to leave", POLL_MS);
  }, 120_000);

  async function admin(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${cloud.queen.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${cloud.apiKey}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  it("starts a worker for a policy's min_workers with no request, and lets it go once min_workers is 0", async () => {
    expect(await workersOfModel()).toEqual([]);
    expect((await admin("PUT", `/v1/models/${model}/policy`, { min_workers: 1, keep_alive_seconds: 1 })).status).toBe(200);
    await waitUntil(async () => (await workersOfModel()).some((worker) => worker.state === "ready"), 60_000, "min_workers to start a worker", POLL_MS);
    expect(await workersOfModel()).toHaveLength(1);
    // With min_workers back at 0 nothing holds it: idle past the 1 s keep-alive, the queen unloads it.
    expect((await admin("PUT", `/v1/models/${model}/policy`, { min_workers: 0, keep_alive_seconds: 1 })).status).toBe(200);
    await waitUntil(async () => (await workersOfModel()).length === 0, 60_000, "the worker no policy holds to be unloaded", POLL_MS);
    expect((await admin("DELETE", `/v1/models/${model}/policy`)).status).toBe(200);
  }, 120_000);

  it("starts a model no catalog has from its policy's source on the first request", async () => {
    const copy = join(cloud.dir, "policy-sourced.gguf");
    await copyFile(fileURLToPath(cloud.modelSource), copy);
    const named = "policy-sourced";
    expect((await admin("PUT", `/v1/models/${named}/policy`, { source: pathToFileURL(copy).href, keep_alive_seconds: 0 })).status).toBe(200);
    const answer = await openAiClient(cloud).chat.completions.create({ model: named, messages: [{ role: "user", content: "Hello" }], max_tokens: 4 });
    expect(answer.model).toBe(named);
    expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect((await admin("DELETE", `/v1/models/${named}/policy`)).status).toBe(200);
  }, 120_000);
});
