import { describe, expect, it } from "vitest";
import { RbeeError } from "../../shared/errors.js";
import { JobEvent, MAX_JOB_DATA_BYTES } from "../../shared/protocol/job-event.js";
import { boundJobData, clampJobEvent } from "./clamp-job-event.js";

describe("clampJobEvent", () => {
  it("cuts texts the queen would refuse, so the event (and a job's end) still arrives", () => {
    const long = "asset-name ".repeat(1000);
    for (const event of [
      { type: "narration", action: "x".repeat(100), message: long },
      { type: "error", code: "worker_asset_not_found", message: long },
      { type: "cancelled", message: long },
    ] as const) {
      expect(JobEvent.safeParse(event).success).toBe(false);
      const clamped = clampJobEvent(event);
      expect(JobEvent.safeParse(clamped).success).toBe(true);
      expect(JSON.stringify(clamped)).toContain("…");
    }
  });

  it("leaves events that fit untouched", () => {
    const event = { type: "narration", action: "spawn", message: "starting worker wrk_1" } as const;
    expect(clampJobEvent(event)).toEqual(event);
    expect(clampJobEvent({ type: "done" })).toEqual({ type: "done" });
  });
});

describe("boundJobData", () => {
  it("passes a payload the queen accepts and refuses a larger one with job_data_too_large", () => {
    const fits = { models: ["a".repeat(MAX_JOB_DATA_BYTES - 100)] };
    expect(boundJobData(fits)).toBe(fits);
    expect(JobEvent.safeParse({ type: "data", payload: fits }).success).toBe(true);
    // Multi-byte characters count as the bytes they take on the wire.
    const tooLarge = { models: ["é".repeat(MAX_JOB_DATA_BYTES / 2)] };
    expect(JobEvent.safeParse({ type: "data", payload: tooLarge }).success).toBe(false);
    let refused: unknown;
    try {
      boundJobData(tooLarge);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(RbeeError);
    expect(refused).toMatchObject({ code: "job_data_too_large", message: expect.stringContaining(String(MAX_JOB_DATA_BYTES)) });
  });
});
