import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, chat, createKey, errorOf } from "./admin-api.js";
import { eventually } from "./hive-socket.js";
import { hiveServing } from "./job-client.js";
import { parsePrometheus } from "./prometheus-text.js";

async function scrape(key?: string): Promise<Map<string, number>> {
  const response = await call("GET", "/metrics", { key });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheus(await response.text());
}

describe("GET /metrics", () => {
  it("counts an answered chat request with its tokens and latencies, for the whole queen", { timeout: 20_000 }, async () => {
    const hive = await hiveServing("metrics-hive", "metrics-model");
    const { key } = await createKey(["inference"]);
    const answer = chat(key, "metrics-model");
    const request = await hive.next("request");
    hive.respond(request.requestId, 200, JSON.stringify({ object: "chat.completion", choices: [], usage: { prompt_tokens: 4, completion_tokens: 6 } }));
    const response = await answer;
    expect(response.status).toBe(200);
    await response.text(); // the answer is counted once its body has passed
    // Counted off the request's path: the sample reaches the Metrics object within a flush.
    await eventually(async () => (await scrape()).get('rbee_requests_total{model="metrics-model",status="200"}') === 1);
    const samples = await scrape();
    expect(samples.get('rbee_prompt_tokens_total{model="metrics-model"}')).toBe(4);
    expect(samples.get('rbee_completion_tokens_total{model="metrics-model"}')).toBe(6);
    expect(samples.get('rbee_time_to_first_token_seconds_count{model="metrics-model"}')).toBe(1);
    expect(samples.get('rbee_request_duration_seconds_bucket{model="metrics-model",le="+Inf"}')).toBe(1);
    expect(samples.get('rbee_workers{model="metrics-model",state="ready"}')).toBe(1);
    expect(samples.get("rbee_hives_online")).toBeGreaterThanOrEqual(1);
    expect(samples.get("rbee_queue_depth")).toBe(0);

    // A request refused as invalid counts under the model it asked for, now that it has a label.
    expect((await chat(key, "metrics-model", { temperature: 9 })).status).toBe(400);
    await eventually(async () => (await scrape()).get('rbee_requests_total{model="metrics-model",status="400"}') === 1);
  });

  it("shows the requests waiting in the queue, per model", async () => {
    const hive = await hiveServing("metrics-queue-hive", "metrics-queue-model");
    const { key } = await createKey(["inference"]);
    // The worker has one slot: the first request holds it, the second waits in the queen's queue.
    const first = chat(key, "metrics-queue-model");
    const held = await hive.next("request");
    const second = chat(key, "metrics-queue-model");
    await eventually(async () => (await scrape()).get('rbee_queue_depth_by_model{model="metrics-queue-model"}') === 1);
    expect((await scrape()).get("rbee_queue_depth")).toBeGreaterThanOrEqual(1);
    hive.respond(held.requestId, 200, "{}");
    await (await first).text();
    hive.respond((await hive.next("request")).requestId, 200, "{}");
    await (await second).text();
    await eventually(async () => !(await scrape()).has('rbee_queue_depth_by_model{model="metrics-queue-model"}'));
  });

  it("counts refusals by their status, a made-up model's as `other` and a rate limit's under (none)", { timeout: 20_000 }, async () => {
    const { key } = await createKey(["inference"], { limits: { rpm: 1 } });
    const before = await scrape();
    const count = (series: string, scraped: Map<string, number>) => scraped.get(series) ?? 0;
    expect((await chat(key, "metrics-no-such-model")).status).toBe(404);
    expect((await chat(key, "metrics-no-such-model")).status).toBe(429);
    await eventually(async () => {
      const after = await scrape();
      return (
        count('rbee_requests_total{model="other",status="404"}', after) === count('rbee_requests_total{model="other",status="404"}', before) + 1 &&
        count('rbee_requests_total{model="(none)",status="429"}', after) === count('rbee_requests_total{model="(none)",status="429"}', before) + 1
      );
    });
    expect((await scrape()).has('rbee_requests_total{model="metrics-no-such-model",status="404"}')).toBe(false);
  });

  it("counts inference requests refused for their key (revoked, unknown, without the scope) under (none)", { timeout: 20_000 }, async () => {
    const revoked = await createKey(["inference"]);
    await call("DELETE", `/v1/keys/${revoked.id}`);
    const adminOnly = await createKey(["admin"]);
    const before = await scrape();
    const count = (series: string, scraped: Map<string, number>) => scraped.get(series) ?? 0;
    expect((await chat(revoked.key, "metrics-model")).status).toBe(401);
    expect((await chat("rbee_sk_guessed_0123456789", "metrics-model")).status).toBe(401);
    expect((await chat(adminOnly.key, "metrics-model")).status).toBe(403);
    await eventually(async () => {
      const after = await scrape();
      return (
        count('rbee_requests_total{model="(none)",status="401"}', after) === count('rbee_requests_total{model="(none)",status="401"}', before) + 2 &&
        count('rbee_requests_total{model="(none)",status="403"}', after) === count('rbee_requests_total{model="(none)",status="403"}', before) + 1
      );
    });
  });

  it("shows jobs in flight by operation and status", async () => {
    const hive = await hiveServing("metrics-jobs-hive", "metrics-jobs-model");
    const response = await call("POST", "/v1/jobs", { body: { operation: "model_download", hive: hive.name, model: "hf:user/model/file.gguf" } });
    expect(response.status).toBe(202);
    await hive.next("job_start");
    await eventually(async () => ((await scrape()).get('rbee_jobs_in_flight{operation="model_download",status="running"}') ?? 0) >= 1);
  });

  it("is refused to an inference key, and open to a key with only the metrics scope", async () => {
    const inference = await createKey(["inference"]);
    const refused = await call("GET", "/metrics", { key: inference.key });
    expect(refused.status).toBe(403);
    expect(await errorOf(refused)).toMatchObject({ code: "insufficient_scope" });
    const metrics = await createKey(["metrics"]);
    expect((await scrape(metrics.key)).has("rbee_hives_online")).toBe(true);
    expect((await call("GET", "/v1/models", { key: metrics.key })).status).toBe(403);
  });

  it("needs a key", async () => {
    expect((await SELF.fetch("https://queen/metrics")).status).toBe(401);
  });
});
