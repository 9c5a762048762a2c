import { describe, expect, it } from "vitest";
import { JobEvent } from "../../shared/protocol/job-event.js";
import { clampJobEvent } from "./clamp-job-event.js";

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
