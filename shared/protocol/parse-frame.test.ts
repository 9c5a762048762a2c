import { describe, expect, it } from "vitest";
import { HiveToQueenFrame, MAX_FRAME_BYTES, QueenToHiveFrame } from "./hive-frames.js";
import { fakeHeartbeat } from "../../test/support/fake-heartbeat.js";
import { MAX_QUEUED_REQUESTS } from "./figures.js";
import { parseFrame } from "./parse-frame.js";
import type { WorkerHeartbeat } from "./worker-heartbeat.js";

describe("parseFrame", () => {
  it("accepts a valid frame", () => {
    const raw = JSON.stringify({ type: "cancel", requestId: "req_abc123" });
    expect(parseFrame(QueenToHiveFrame, raw)).toEqual({ ok: true, frame: { type: "cancel", requestId: "req_abc123" } });
  });

  it("refuses binary frames", () => {
    expect(parseFrame(QueenToHiveFrame, new ArrayBuffer(4))).toMatchObject({ ok: false, code: "frame_not_text" });
  });

  it("refuses frames over the size limit without parsing them", () => {
    const raw = `{"type":"cancel","pad":"${"x".repeat(MAX_FRAME_BYTES)}"}`;
    expect(parseFrame(QueenToHiveFrame, raw)).toMatchObject({ ok: false, code: "frame_too_large" });
  });

  it("names where malformed JSON broke", () => {
    const result = parseFrame(QueenToHiveFrame, "{oops");
    expect(result).toMatchObject({ ok: false, code: "invalid_json" });
  });

  it("names the bad field of an invalid frame and the frame type", () => {
    const raw = JSON.stringify({ type: "request", requestId: "req_1", workerId: "wrk_1", port: 99999, path: "/v1/chat/completions", body: "" });
    const result = parseFrame(QueenToHiveFrame, raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/invalid "request" frame: port/);
  });

  it("refuses a relay to a path outside the worker's API", () => {
    const raw = JSON.stringify({ type: "request", requestId: "req_1", workerId: "wrk_1", port: 4000, path: "/../admin", body: "" });
    expect(parseFrame(QueenToHiveFrame, raw)).toMatchObject({ ok: false, code: "invalid_frame" });
  });

  it("refuses worker ids that could be paths", () => {
    const heartbeat = { workerId: "wrk_../../x", model: "m", state: "ready", pid: 1, port: 1, slotsTotal: 1, slotsBusy: 0 };
    const raw = JSON.stringify({ type: "worker_heartbeats", heartbeats: [heartbeat] });
    expect(parseFrame(HiveToQueenFrame, raw)).toMatchObject({ ok: false, code: "invalid_frame" });
  });

  it("refuses a heartbeat with more slots busy than it has", () => {
    const frame = (slotsBusy: number) => JSON.stringify({ type: "worker_heartbeats", heartbeats: [fakeHeartbeat({ workerId: "wrk_1", slotsBusy })] });
    expect(parseFrame(HiveToQueenFrame, frame(1))).toMatchObject({ ok: true });
    const refused = parseFrame(HiveToQueenFrame, frame(1024));
    expect(refused).toMatchObject({ ok: false, code: "invalid_frame" });
    if (!refused.ok) expect(refused.message).toContain("slotsBusy must not exceed slotsTotal");
  });

  it("accepts a job event and refuses one whose job id could be a path", () => {
    const event = { type: "narration", action: "spawn", message: "starting" };
    expect(parseFrame(HiveToQueenFrame, JSON.stringify({ type: "job_event", jobId: "job_abc", seq: 0, event }))).toMatchObject({ ok: true });
    const result = parseFrame(HiveToQueenFrame, JSON.stringify({ type: "job_event", jobId: "job_../x", seq: 0, event }));
    expect(result).toMatchObject({ ok: false, code: "invalid_frame" });
    if (!result.ok) expect(result.message).toContain("jobId");
  });

  it("refuses a job_start for an operation the hive does not know", () => {
    const raw = JSON.stringify({ type: "job_start", jobId: "job_1", operation: { operation: "format_disk" } });
    expect(parseFrame(QueenToHiveFrame, raw)).toMatchObject({ ok: false, code: "invalid_frame" });
  });

  it("refuses unknown frame types", () => {
    expect(parseFrame(HiveToQueenFrame, JSON.stringify({ type: "format_disk" }))).toMatchObject({ ok: false, code: "invalid_frame" });
  });
  it("refuses figures no machine reaches, naming the field", () => {
    const heartbeats = (overrides: Partial<WorkerHeartbeat>) =>
      JSON.stringify({ type: "worker_heartbeats", heartbeats: [fakeHeartbeat({ workerId: "wrk_1", ...overrides })] });
    expect(parseFrame(HiveToQueenFrame, heartbeats({ queueLength: MAX_QUEUED_REQUESTS, tokensPerSecond: 5000 }))).toMatchObject({ ok: true });
    for (const [field, value] of [["queueLength", 2 ** 40], ["tokensPerSecond", 1e300], ["memoryRssBytes", 2 ** 52]] as const) {
      const refused = parseFrame(HiveToQueenFrame, heartbeats({ [field]: value }));
      expect(refused).toMatchObject({ ok: false, code: "invalid_frame" });
      if (!refused.ok) expect(refused.message).toContain(field);
    }
    const status = (ramTotalBytes: number) =>
      JSON.stringify({ type: "hive_status", devices: { gpus: [], ramTotalBytes, ramFreeBytes: 0, cpu: { model: "x", cores: 2 }, os: "linux", osRelease: "6", arch: "x64", workerTypes: ["cpu"] } });
    const huge = parseFrame(HiveToQueenFrame, status(2 ** 60));
    expect(huge).toMatchObject({ ok: false, code: "invalid_frame" });
    if (!huge.ok) expect(huge.message).toMatch(/ramTotalBytes.*1 PiB/);
    expect(parseFrame(HiveToQueenFrame, status(64 * 2 ** 30))).toMatchObject({ ok: true });
  });
});
