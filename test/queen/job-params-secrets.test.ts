// A pre-signed model URL carries its credential in the query: the hive gets it whole (it needs it
// to download), but the job record the queen keeps in D1 (and shows at GET /v1/jobs/:id) does not.
import { describe, expect, it } from "vitest";
import { TestHive } from "./hive-socket.js";
import { getJob, submitJob } from "./job-client.js";

describe("job params", () => {
  it("keeps a model URL without its query in the job record, and hands the hive the whole URL", async () => {
    const hive = await TestHive.greeted("presigned-hive");
    const url = "https://bucket.example/models/x.gguf?X-Amz-Credential=AKIA123&X-Amz-Signature=deadbeef";
    const job = await submitJob({ operation: "model_download", hive: "presigned-hive", model: url });
    const start = await hive.next("job_start");
    expect(start.operation).toEqual({ operation: "model_download", model: url });
    const record = await getJob(job.job_id);
    expect(record.body.params).toEqual({ operation: "model_download", hive: "presigned-hive", model: "https://bucket.example/models/x.gguf" });
    expect(JSON.stringify(record.body)).not.toContain("deadbeef");
  });
});
