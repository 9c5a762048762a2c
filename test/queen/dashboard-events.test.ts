import { env, SELF } from "cloudflare:test";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { describe, expect, it } from "vitest";
import { DASHBOARD_PATHS, DashboardSnapshot } from "../../shared/dashboard/dashboard-snapshot.js";
import { metricsStub } from "../../queen/metrics/metrics-store.js";
import { buildSnapshot } from "../../queen/dashboard/build-snapshot.js";
import { revokedKey } from "../../queen/auth/key-standing.js";
import { SNAPSHOT_INTERVAL_MS, snapshotStream } from "../../queen/dashboard/snapshot-stream.js";
import { RECENT_BUCKET_MS, RECENT_BUCKETS, RecentRequests } from "../../queen/metrics/recent-requests.js";
import { call, createKey, errorOf } from "./admin-api.js";
import { TestHive } from "./hive-socket.js";
import { hiveServing, sendJobEvent, submitJob } from "./job-client.js";

/** Reads the stream until a `snapshot` event for which `accept` holds; cancels the stream after. */
async function snapshotWhere(response: Response, accept: (snapshot: DashboardSnapshot) => boolean): Promise<DashboardSnapshot> {
  const body = response.body;
  if (!body) throw new Error("the events response has no body");
  const reader = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  try {
    for (;;) {
      const { done, value: event } = await reader.read();
      if (done) throw new Error("the stream ended before a matching snapshot");
      expect(event.event).toBe("snapshot");
      const snapshot = DashboardSnapshot.parse(JSON.parse(event.data));
      if (accept(snapshot)) return snapshot;
    }
  } finally {
    await reader.cancel();
  }
}

describe("GET /v1/dashboard/events", () => {
  it("refuses a request without a key, in the usual error shape", async () => {
    const response = await SELF.fetch(`https://queen${DASHBOARD_PATHS.events}`);
    expect(response.status).toBe(401);
    expect(await errorOf(response)).toMatchObject({ code: "missing_api_key", type: expect.any(String), message: expect.stringContaining("API key") });
  });

  it("refuses a key without the admin scope", async () => {
    const { key } = await createKey(["inference"]);
    const response = await call("GET", DASHBOARD_PATHS.events, { key });
    expect(response.status).toBe(403);
    expect((await errorOf(response)).message).toMatch(/admin/);
  });

  it("streams snapshots of the fleet to an admin key: the hive online, its worker and its model", { timeout: 20_000 }, async () => {
    await hiveServing("dash-events-hive", "dash-events-model");
    const response = await call("GET", DASHBOARD_PATHS.events);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const snapshot = await snapshotWhere(response, (candidate) => candidate.workers.some((worker) => worker.model === "dash-events-model" && worker.state === "ready"));
    expect(snapshot.hives).toContainEqual(expect.objectContaining({ name: "dash-events-hive", online: true }));
    expect(snapshot.models).toContainEqual(expect.objectContaining({ id: "dash-events-model", state: "loaded", loaded_on: ["dash-events-hive"] }));
    expect(snapshot.traffic.buckets).toHaveLength(RECENT_BUCKETS);
  });

  it("sends a later snapshot when the fleet changes, on the same stream", { timeout: 20_000 }, async () => {
    const response = await call("GET", DASHBOARD_PATHS.events);
    let first = true;
    const changed = await snapshotWhere(response, (snapshot) => {
      // The first snapshot is sent before the hive exists; a later one must show it.
      if (first) void hiveServing("dash-later-hive", "dash-later-model");
      first = false;
      return snapshot.workers.some((worker) => worker.model === "dash-later-model");
    });
    expect(changed.hives.map((hive) => hive.name)).toContain("dash-later-hive");
  });

  it("lists a running download with its newest progress", { timeout: 20_000 }, async () => {
    const hive = await TestHive.greeted("dash-jobs-hive");
    const { job_id: jobId } = await submitJob({ operation: "model_download", hive: "dash-jobs-hive", model: "hf:org/repo:model.gguf" });
    await hive.next("job_start");
    sendJobEvent(hive, jobId, { type: "progress", bytes: 512, total: 2048, bytes_per_second: 256 });
    const snapshot = await snapshotWhere(await call("GET", DASHBOARD_PATHS.events), (candidate) => candidate.jobs.some((job) => job.id === jobId && job.progress !== null));
    expect(snapshot.jobs.find((job) => job.id === jobId)).toMatchObject({
      operation: "model_download",
      hive: "dash-jobs-hive",
      subject: "hf:org/repo:model.gguf",
      progress: { bytes: 512, total: 2048, bytes_per_second: 256 },
    });
  });
});

describe("the snapshot stream", () => {
  /** A stream whose builds are counted; each build is a real snapshot, made to differ by a counter. */
  function countedStream(signal: AbortSignal) {
    const counted = { builds: 0 };
    const stream = snapshotStream(async () => {
      counted.builds += 1;
      const snapshot = await buildSnapshot(env);
      return { ...snapshot, queued: counted.builds };
    }, signal, { standing: async () => undefined });
    return { counted, reader: stream.getReader() };
  }

  it("stops building snapshots once its reader cancels, as a closed tab does", { timeout: 20_000 }, async () => {
    const { counted, reader } = countedStream(new AbortController().signal);
    expect((await reader.read()).done).toBe(false);
    // The next snapshot is being waited for when the tab goes.
    const pending = reader.read();
    await reader.cancel();
    expect((await pending).done).toBe(true);
    const afterCancel = counted.builds;
    await new Promise((resolve) => setTimeout(resolve, 3 * SNAPSHOT_INTERVAL_MS));
    expect(counted.builds).toBe(afterCancel);
  });

  it("ends when the request's signal aborts", { timeout: 20_000 }, async () => {
    const request = new AbortController();
    const { reader } = countedStream(request.signal);
    expect((await reader.read()).done).toBe(false);
    request.abort();
    expect((await reader.read()).done).toBe(true);
  });

  it("ends, saying why, once the key that opened it no longer stands (revoked)", { timeout: 20_000 }, async () => {
    let checks = 0;
    const standing = async () => (++checks > 1 ? revokedKey("key_gone") : undefined);
    const reader = snapshotStream(() => buildSnapshot(env), new AbortController().signal, { standing, everyMs: 0 }).getReader();
    const decoder = new TextDecoder();
    const first = decoder.decode((await reader.read()).value);
    expect(first).toMatch(/^event: snapshot\n/);
    const problem = decoder.decode((await reader.read()).value);
    expect(problem).toMatch(/^event: problem\n/);
    expect(JSON.parse(problem.split("data: ")[1] ?? "")).toEqual({ code: "api_key_revoked", message: "API key key_gone was revoked; ask an admin for a new one." });
    expect((await reader.read()).done).toBe(true);
  });

  it("builds nothing while its reader has not taken the last snapshot", { timeout: 20_000 }, async () => {
    const { counted, reader } = countedStream(new AbortController().signal);
    expect((await reader.read()).done).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 3 * SNAPSHOT_INTERVAL_MS));
    expect(counted.builds).toBe(1);
    await reader.cancel();
  });
});

describe("the traffic series", () => {
  it("adds up the requests of every isolate per time bucket in the one Metrics object", async () => {
    const before = (await metricsStub(env).recentTraffic()).at(-1);
    await metricsStub(env).record([
      { model: "m", status: 200, promptTokens: 1, completionTokens: 1, ttftMs: 100, totalMs: 200, served: true },
      { model: "m", status: 500, promptTokens: 0, completionTokens: 0, ttftMs: null, totalMs: 5, served: true },
    ]);
    const series = await metricsStub(env).recentTraffic();
    const last = series.at(-1);
    expect(series).toHaveLength(RECENT_BUCKETS);
    // A bucket boundary may pass between the two reads: then the samples are all in the new bucket.
    const base = before?.start_ms === last?.start_ms ? before : undefined;
    expect(last?.requests).toBe((base?.requests ?? 0) + 2);
    expect(last?.errors).toBe((base?.errors ?? 0) + 1);
  });

  it("keeps ten minutes of buckets, oldest first, with empty ones as zeros", () => {
    const recent = new RecentRequests();
    const start = 1_000 * RECENT_BUCKET_MS;
    recent.add([{ model: "m", status: 200, promptTokens: 0, completionTokens: 0, ttftMs: 40, totalMs: 50, served: true }], start);
    recent.add([{ model: "m", status: 200, promptTokens: 0, completionTokens: 0, ttftMs: 80, totalMs: 90, served: true }], start + 1);
    expect(recent.series(start).at(-1)).toEqual({ start_ms: start, requests: 2, errors: 0, ttft_ms: 60 });
    const later = recent.series(start + 3 * RECENT_BUCKET_MS);
    expect(later.at(-4)).toMatchObject({ start_ms: start, requests: 2 });
    expect(later.at(-1)).toEqual({ start_ms: start + 3 * RECENT_BUCKET_MS, requests: 0, errors: 0, ttft_ms: null });
    // Past the window, the old bucket is gone, in the series and in what is stored.
    recent.add([], start + RECENT_BUCKETS * RECENT_BUCKET_MS);
    expect(recent.state().map(([startMs]) => startMs)).toEqual([start + RECENT_BUCKETS * RECENT_BUCKET_MS]);
  });
});
