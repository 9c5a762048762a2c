import { describe, expect, it } from "vitest";
import { withCommandHint } from "../../cli/command-hints.js";

describe("withCommandHint", () => {
  it("adds the rbee command for the API call a message suggests", () => {
    expect(withCommandHint("No hive named 'gpu-box'; register it with POST /v1/hives.")).toBe("No hive named 'gpu-box'; register it with POST /v1/hives. With rbee: rbee hives add gpu-box");
    expect(withCommandHint("job job_1 failed: model 'm' is loaded by worker wrk_ab12 (pid 42); stop the worker first (DELETE /v1/workers/wrk_ab12)")).toMatch(
      /With rbee: rbee workers stop wrk_ab12$/,
    );
  });

  it("leaves a message that suggests no call rbee has a command for", () => {
    expect(withCommandHint("The model is loading.")).toBe("The model is loading.");
  });
});
