// GET /v1/models lists what a connected hive has in its catalog, not only what runs: a model
// that fits its memory as `loadable` with a rough wait, one too big for it as `too_large`, and
// a served one as `loaded`, each `created` when the queen first saw it; a hive that goes offline takes its catalog with it.
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { spawnWorker } from "./job-client.js";
import { describe, expect, it } from "vitest";
import { type CatalogModel, MAX_CATALOG_MODELS } from "../../shared/protocol/catalog-models.js";
import { MAX_SEEN_CATALOG_MODELS } from "../../queen/registry/registry.js";
import { registryStub } from "../../queen/registry/stub.js";
import { auth, eventually, helloFrame, TEST_DEVICES, TestHive } from "./hive-socket.js";

const GIB = 1024 ** 3;

function catalogModel(name: string, gib: number): CatalogModel {
  return { source: `file:/models/${name}.gguf`, name, sizeBytes: gib * GIB, memoryBytes: gib * GIB, vramBytes: gib * GIB };
}

interface ListedModel {
  id: string;
  object: string;
  owned_by: string;
  created: number;
  state: string;
  estimated_wait_seconds: number | null;
  hives: string[];
}

async function listModels(): Promise<ListedModel[]> {
  const response = await SELF.fetch("https://queen/v1/models", { headers: auth });
  return ((await response.json()) as { data: ListedModel[] }).data;
}

describe("/v1/models with hive catalogs", () => {
  it("lists a model a connected hive can load as loadable and one too big for it as too_large", async () => {
    const hive = await TestHive.connect("catalog-hive", await TestHive.register("catalog-hive"));
    // TEST_DEVICES: 6 GiB free on the GPU, 8 GiB of free RAM.
    hive.send({ ...helloFrame(), models: [catalogModel("small-model", 2), catalogModel("huge-model", 40)] });
    await hive.next("welcome");
    await eventually(async () => (await listModels()).some((model) => model.id === "small-model"));
    const models = await listModels();
    expect(models.find((model) => model.id === "small-model")).toMatchObject({
      object: "model",
      owned_by: "rbee",
      state: "loadable",
      estimated_wait_seconds: 4,
      hives: ["catalog-hive"],
    });
    expect(models.find((model) => model.id === "huge-model")).toMatchObject({ state: "too_large", estimated_wait_seconds: null });
    // `created` is when the queen first saw the model, not the time of the listing.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const later = await listModels();
    for (const id of ["small-model", "huge-model"]) expect(later.find((model) => model.id === id)?.created).toBe(models.find((model) => model.id === id)?.created);

    const one = await SELF.fetch("https://queen/v1/models/small-model", { headers: auth });
    expect(await one.json()).toMatchObject({ id: "small-model", state: "loadable" });

    hive.heartbeat(await spawnWorker(hive, "small-model"), "small-model");
    await eventually(async () => (await listModels()).find((model) => model.id === "small-model")?.state === "loaded");

    hive.ws.close(1000, "bye");
    await eventually(async () => !(await listModels()).some((model) => model.id === "huge-model"));
  });

  it("lists a model whose policy allows no device the hives offer as unavailable, as a request for it is refused", async () => {
    const hive = await TestHive.connect("policy-catalog-hive", await TestHive.register("policy-catalog-hive"));
    hive.send({ ...helloFrame(), models: [catalogModel("metal-only-model", 1)] });
    await hive.next("welcome");
    await eventually(async () => (await listModels()).find((model) => model.id === "metal-only-model")?.state === "loadable");
    const put = await SELF.fetch("https://queen/v1/models/metal-only-model/policy", {
      method: "PUT",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ worker_types: ["metal"] }),
    });
    expect(put.status).toBe(200);
    await eventually(async () => (await listModels()).find((model) => model.id === "metal-only-model")?.state === "unavailable");
    expect((await listModels()).find((model) => model.id === "metal-only-model")).toMatchObject({ estimated_wait_seconds: null });
    hive.ws.close(1000, "bye");
  });

  it("lists a model only a policy's source has as loadable, with no wait to guess, as a request for it downloads it", async () => {
    const hive = await TestHive.connect("sourced-catalog-hive", await TestHive.register("sourced-catalog-hive"));
    hive.send(helloFrame());
    await hive.next("welcome");
    const put = await SELF.fetch("https://queen/v1/models/sourced-model/policy", {
      method: "PUT",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ source: "hf:org/sourced-GGUF" }),
    });
    expect(put.status).toBe(200);
    await eventually(async () => (await listModels()).some((model) => model.id === "sourced-model"));
    expect((await listModels()).find((model) => model.id === "sourced-model")).toMatchObject({ state: "loadable", estimated_wait_seconds: null, hives: [] });
    const one = await SELF.fetch("https://queen/v1/models/sourced-model", { headers: auth });
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ id: "sourced-model", state: "loadable" });
    // Its policy allows only a device no online hive offers: unavailable, as a request for it is refused.
    await SELF.fetch("https://queen/v1/models/sourced-model/policy", {
      method: "PUT",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ source: "hf:org/sourced-GGUF", worker_types: ["metal"] }),
    });
    await eventually(async () => (await listModels()).find((model) => model.id === "sourced-model")?.state === "unavailable");
    await SELF.fetch("https://queen/v1/models/sourced-model/policy", { method: "DELETE", headers: auth });
    await eventually(async () => !(await listModels()).some((model) => model.id === "sourced-model"));
    hive.ws.close(1000, "bye");
  });

  it("picks up a hive_status that reports a model new to the catalog", async () => {
    const hive = await TestHive.greeted("status-hive");
    hive.send({ type: "hive_status", devices: TEST_DEVICES, models: [catalogModel("fresh-model", 1)] });
    await eventually(async () => (await listModels()).find((model) => model.id === "fresh-model")?.state === "loadable");
    hive.ws.close(1000, "bye");
  });

  it("remembers a bounded number of catalog models, however many new names a hive reports, and lists them still", async () => {
    const hive = await TestHive.greeted("many-names-hive");
    const statuses = Math.ceil(MAX_SEEN_CATALOG_MODELS / MAX_CATALOG_MODELS) + 2;
    for (let status = 0; status < statuses; status += 1) {
      const models = Array.from({ length: MAX_CATALOG_MODELS }, (_, index) => catalogModel(`name-${status}-${index}`, 1));
      hive.send({ type: "hive_status", devices: TEST_DEVICES, models });
      // One at a time: workerd may hand an object a burst of frames out of order.
      await eventually(async () => (await listModels()).some((model) => model.id === `name-${status}-0`), 10_000);
    }
    const remembered = await runInDurableObject(registryStub(env), async (_, state) => (await state.storage.list({ prefix: "seen-model:" })).size);
    expect(remembered).toBeLessThanOrEqual(MAX_SEEN_CATALOG_MODELS);
    expect(remembered).toBeGreaterThan(MAX_SEEN_CATALOG_MODELS - MAX_CATALOG_MODELS);
    hive.ws.close(1000, "bye");
  }, 60_000);
});
