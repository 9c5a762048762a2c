import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { JobWatchers } from "../../queen/jobs/job-watchers.js";
import { auth, eventually, TestHive } from "./hive-socket.js";
import { getJob, postJob, sendJobEvent, submitJob } from "./job-client.js";

interface JobList {
  object: string;
  data: Array<{ id: string; hive: string; operation: string; status: string }>;
}

async function listJobs(query = ""): Promise<{ status: number; body: JobList & { error?: { code: string; param: string; message: string } } }> {
  const response = await SELF.fetch(`https://queen/v1/jobs${query}`, { headers: auth });
  return { status: response.status, body: await response.json() };
}

describe("job operations for the hive's catalogs", () => {
  it("hands every catalog operation to its hive in the hive's own words", async () => {
    const hive = await TestHive.greeted("catalog-ops-hive");
    const cases = [
      [{ operation: "model_download", hive: "catalog-ops-hive", model: "hf:org/repo:model.Q4_K_M.gguf" }, { operation: "model_download", model: "hf:org/repo:model.Q4_K_M.gguf" }],
      [{ operation: "model_delete", hive: "catalog-ops-hive", model: "https://example.com/x.gguf" }, { operation: "model_delete", model: "https://example.com/x.gguf" }],
      [{ operation: "model_list", hive: "catalog-ops-hive" }, { operation: "model_list" }],
      [{ operation: "worker_install", hive: "catalog-ops-hive" }, { operation: "worker_install", workerType: "cpu", source: "local" }],
      [
        { operation: "worker_install", hive: "catalog-ops-hive", worker_type: "cuda", source: "gh:rbee-dev/rbee@v0.2.0" },
        { operation: "worker_install", workerType: "cuda", source: "gh:rbee-dev/rbee@v0.2.0" },
      ],
      [{ operation: "worker_install", hive: "catalog-ops-hive", worker_type: "vulkan", rebuild: true }, { operation: "worker_install", workerType: "vulkan", source: "local", rebuild: true }],
      [{ operation: "worker_catalog_list", hive: "catalog-ops-hive" }, { operation: "worker_catalog_list" }],
      [
        { operation: "worker_spawn", hive: "catalog-ops-hive", model: "tiny", source: "hf:org/repo", worker_type: "cuda", device: 1 },
        { operation: "worker_spawn", model: "tiny", source: "hf:org/repo", workerType: "cuda", device: 1, workerId: expect.stringMatching(/^wrk_/) },
      ],
    ] as const;
    for (const [request, expected] of cases) {
      const job = await submitJob(request);
      const start = await hive.next("job_start");
      expect(start.jobId).toBe(job.job_id);
      expect(start.operation).toEqual(expected);
    }
  });

  it("refuses a model source no vendor understands, naming the field", async () => {
    await TestHive.greeted("bad-source-hive");
    const response = await postJob({ operation: "model_download", hive: "bad-source-hive", model: "ftp://example.com/x.gguf" });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { param: string; message: string } };
    expect(error.param).toBe("model");
    expect(error.message).toContain("hf:org/repo");
  });

  it("refuses a worker source that is neither local nor a GitHub release", async () => {
    await TestHive.greeted("bad-worker-source-hive");
    const response = await postJob({ operation: "worker_install", hive: "bad-worker-source-hive", source: "https://evil.example/worker" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe("source");
  });
});

describe("GET /v1/jobs", () => {
  it("lists jobs newest first, by hive and by status", async () => {
    const hive = await TestHive.greeted("listed-jobs-hive");
    const first = await submitJob({ operation: "hive_check", hive: "listed-jobs-hive" });
    await hive.next("job_start");
    const second = await submitJob({ operation: "model_list", hive: "listed-jobs-hive" });
    await hive.next("job_start");
    sendJobEvent(hive, first.job_id, { type: "done" });
    await eventually(async () => (await getJob(first.job_id)).body.status === "done");

    const all = await listJobs("?hive=listed-jobs-hive");
    expect(all.status).toBe(200);
    expect(all.body.object).toBe("list");
    expect(all.body.data.map((job) => job.id)).toEqual([second.job_id, first.job_id]);
    expect((await listJobs("?hive=listed-jobs-hive&status=done")).body.data.map((job) => job.id)).toEqual([first.job_id]);
    expect((await listJobs("?hive=listed-jobs-hive&limit=1")).body.data.map((job) => job.id)).toEqual([second.job_id]);
  });

  it("refuses a filter it does not understand, naming the parameter", async () => {
    for (const [query, param] of [
      ["?status=sleeping", "status"],
      ["?limit=0", "limit"],
      ["?limit=lots", "limit"],
      ["?hive=../etc", "hive"],
    ] as const) {
      const { status, body } = await listJobs(query);
      expect(status, query).toBe(400);
      expect(body.error).toMatchObject({ code: "invalid_parameter", param });
    }
  });
});

describe("job event streams", () => {
  it("send a keep-alive comment while a watcher waits on a quiet job", async () => {
    const watchers = new JobWatchers(20);
    const reader = watchers.open([], false).getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe(": keep-alive\n\n");
    await reader.cancel();
    expect(watchers.size).toBe(0);
  });
});
