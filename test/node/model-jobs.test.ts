// The model catalog through the queen's jobs API, for real: a hive process downloads from a
// local server that answers like the Hugging Face hub (HF_ENDPOINT), narrates and reports
// progress, serves the model from its catalog, refuses to delete it while a worker has it
// loaded, and a cancelled download leaves nothing listed.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import type { StampedJobEvent } from "../../shared/protocol/job-event.js";
import { FakeHub, sha256 } from "../support/fake-hub.js";
import { call, jobEvents, narrationActions, runJob } from "./job-stream.js";
import { type LocalCloud, startLocalCloud, waitUntil } from "./local-cloud.js";

const HIVE = "model-jobs-hive";
const REPO = "rbee-test/tiny-GGUF";
const SLOW_REPO = "rbee-test/slow-GGUF";
const GATED_REPO = "rbee-test/gated-GGUF";
const model = createTinyLlamaGguf();

function dataOf(events: StampedJobEvent[]): Record<string, unknown> {
  const data = events.find((event) => event.type === "data");
  if (data?.type !== "data") throw new Error(`no data event in ${JSON.stringify(events)}`);
  return data.payload;
}

describe("model jobs end to end", () => {
  let hub: FakeHub;
  let cloud: LocalCloud;

  beforeAll(async () => {
    hub = await FakeHub.start({
      repos: [
        {
          id: REPO,
          files: [
            { path: "tiny.Q8_0.gguf", bytes: model, lfs: true },
            { path: "tiny.Q4_K_M.gguf", bytes: model, lfs: true, bytesPerSecond: 1024 * 1024 },
          ],
        },
        { id: SLOW_REPO, files: [{ path: "slow.Q4_K_M.gguf", bytes: model, lfs: true, bytesPerSecond: 32 * 1024 }] },
        { id: GATED_REPO, files: [{ path: "gated.Q4_K_M.gguf", bytes: model, lfs: true }], access: { kind: "gated", token: "hf_not_given_to_the_hive" } },
      ],
    });
    cloud = await startLocalCloud({ heartbeatIntervalMs: 1000, hiveName: HIVE, hiveEnv: { HF_ENDPOINT: hub.url } });
  });

  afterAll(async () => {
    await cloud?.stop();
    await hub?.close();
  });

  it("downloads hf:org/repo into the catalog, picking Q4_K_M and saying so, with progress and the verified SHA-256", async () => {
    const { events } = await runJob(cloud, { operation: "model_download", hive: HIVE, model: `hf:${REPO}` });
    expect(events.at(-1)?.type).toBe("done");
    const narration = events.flatMap((event) => (event.type === "narration" ? [event.message] : [])).join("\n");
    expect(narration).toContain("Q4_K_M");
    const progress = events.filter((event) => event.type === "progress");
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ bytes: model.length, total: model.length });
    expect(dataOf(events)).toMatchObject({
      model: { id: `hf:${REPO}`, status: "available", size_bytes: model.length, sha256: sha256(model), gguf: { architecture: "llama", has_chat_template: true } },
    });
  });

  it("lists what the catalog holds", async () => {
    const { events } = await runJob(cloud, { operation: "model_list", hive: HIVE });
    expect((dataOf(events).models as Array<{ id: string; status: string }>).map(({ id, status }) => ({ id, status }))).toEqual([
      { id: `hf:${REPO}`, status: "available" },
    ]);
  });

  it("serves the downloaded model without fetching it again, and keeps it while a worker has it loaded", async () => {
    const downloadsBefore = hub.seen("tiny.Q4_K_M.gguf", "GET").length;
    const spawned = await call(cloud, "POST", "/v1/workers", { hive: HIVE, model: "tiny-hf", source: `hf:${REPO}` });
    expect(spawned.status).toBe(201);
    const worker = spawned.json as { id: string };
    expect(hub.seen("tiny.Q4_K_M.gguf", "GET").length).toBe(downloadsBefore);

    const chat = await fetch(`${cloud.queen.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${cloud.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny-hf", messages: [{ role: "user", content: "Hi" }], max_tokens: 4 }),
    });
    expect(chat.status).toBe(200);

    const refused = await runJob(cloud, { operation: "model_delete", hive: HIVE, model: `hf:${REPO}` });
    // It names the very call that stops the worker (which the rbee CLI turns into `rbee workers stop <id>`).
    expect(refused.events.at(-1)).toMatchObject({ type: "error", code: "model_in_use", message: expect.stringContaining(`stop the worker first (DELETE /v1/workers/${worker.id})`) });

    const stopped = await call(cloud, "DELETE", `/v1/workers/${worker.id}`);
    await jobEvents(cloud, (stopped.json as { stream_url: string }).stream_url);
    const deleted = await runJob(cloud, { operation: "model_delete", hive: HIVE, model: `hf:${REPO}` });
    expect(deleted.events.at(-1)?.type).toBe("done");
    expect(dataOf((await runJob(cloud, { operation: "model_list", hive: HIVE })).events)).toEqual({ models: [] });
  });

  it("cancels a download down to the hive and leaves nothing listed", async () => {
    const submitted = await call(cloud, "POST", "/v1/jobs", { operation: "model_download", hive: HIVE, model: `hf:${SLOW_REPO}:slow.Q4_K_M.gguf` });
    const { job_id: jobId, stream_url: streamUrl } = submitted.json as { job_id: string; stream_url: string };
    await waitUntil(() => hub.seen("slow.Q4_K_M.gguf", "GET").length > 0, 20_000, "the download to start");
    expect((await call(cloud, "DELETE", `/v1/jobs/${jobId}`)).status).toBe(202);
    const events = await jobEvents(cloud, streamUrl);
    expect(events.at(-1)?.type).toBe("cancelled");
    expect(narrationActions(events)).toContain("fetch");
    expect(dataOf((await runJob(cloud, { operation: "model_list", hive: HIVE })).events)).toEqual({ models: [] });
  });

  it("refuses to delete a model a spawn is fetching, naming the spawn's job, rather than remove the file its worker will load", async () => {
    const source = `hf:${SLOW_REPO}:slow.Q4_K_M.gguf`;
    const fetchesBefore = hub.seen("slow.Q4_K_M.gguf", "GET").length;
    const spawning = call(cloud, "POST", "/v1/workers", { hive: HIVE, model: "slow-model", source });
    await waitUntil(() => hub.seen("slow.Q4_K_M.gguf", "GET").length > fetchesBefore, 20_000, "the spawn's download to start");
    const end = (await runJob(cloud, { operation: "model_delete", hive: HIVE, model: source })).events.at(-1);
    expect(end).toMatchObject({ type: "error", code: "model_in_use", message: expect.stringMatching(/is being started as a worker by job \S+; wait for it to end/) });
    const spawnJob = end?.type === "error" ? /by job (\S+);/.exec(end.message)?.[1] : undefined;
    expect((await call(cloud, "DELETE", `/v1/jobs/${spawnJob}`)).status).toBe(202);
    expect((await spawning).status).not.toBe(201);
    // The cancelled spawn took its download with it; the delete had removed nothing under it.
    await waitUntil(async () => JSON.stringify(dataOf((await runJob(cloud, { operation: "model_list", hive: HIVE })).events)) === '{"models":[]}', 10_000, "the catalog to be empty");
  });

  it("ends a download of a repo it cannot read with an error that says to set HF_TOKEN", async () => {
    const { events } = await runJob(cloud, { operation: "model_download", hive: HIVE, model: `hf:${GATED_REPO}` });
    expect(events.at(-1)).toMatchObject({ type: "error", code: "model_access_denied", message: expect.stringContaining("HF_TOKEN") });
  });

  it("keeps one entry for spellings of one file, and nothing for a first download that failed", async () => {
    const folder = await mkdtemp(path.join(tmpdir(), "rbee-spellings-"));
    try {
      const filePath = path.join(folder, "local.gguf");
      await writeFile(filePath, model);
      for (const spelling of [`file:${filePath}`, `file://${filePath}`, `hf:${REPO}/tiny.Q8_0.gguf`, `hf:${REPO}:tiny.Q8_0.gguf#main`]) {
        expect((await runJob(cloud, { operation: "model_download", hive: HIVE, model: spelling })).events.at(-1)?.type).toBe("done");
      }
      const missing = await runJob(cloud, { operation: "model_download", hive: HIVE, model: `hf:${REPO}:missing.gguf` });
      expect(missing.events.at(-1)).toMatchObject({ type: "error", code: "model_not_found" });
      const listed = (dataOf((await runJob(cloud, { operation: "model_list", hive: HIVE })).events).models as Array<{ id: string }>).map(({ id }) => id);
      expect(listed).toEqual([`file:${filePath}`, `hf:${REPO}:tiny.Q8_0.gguf`]);
      for (const id of listed) expect((await runJob(cloud, { operation: "model_delete", hive: HIVE, model: id })).events.at(-1)?.type).toBe("done");
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it("keeps a pre-signed URL's query out of the catalog, the job's events and its record", async () => {
    const url = `${hub.plainUrl(REPO, "tiny.Q8_0.gguf")}?X-Amz-Signature=s3cr3tsig&token=s3cr3ttok`;
    const { events } = await runJob(cloud, { operation: "model_download", hive: HIVE, model: url });
    expect(events.at(-1)?.type).toBe("done");
    expect(dataOf(events)).toMatchObject({ model: { id: hub.plainUrl(REPO, "tiny.Q8_0.gguf"), origin: hub.plainUrl(REPO, "tiny.Q8_0.gguf") } });
    expect(JSON.stringify(events)).not.toMatch(/s3cr3t/);
    expect(hub.seen("tiny.Q8_0.gguf", "GET").at(-1)?.path).toContain("X-Amz-Signature=s3cr3tsig"); // the download itself used it
    const jobId = events[0]?.job_id ?? "";
    const record = await call(cloud, "GET", `/v1/jobs/${jobId}`);
    expect(JSON.stringify(record.json)).not.toMatch(/s3cr3t/);
    const list = await runJob(cloud, { operation: "model_list", hive: HIVE });
    expect(JSON.stringify(list.events)).not.toMatch(/s3cr3t/);
  });
});
