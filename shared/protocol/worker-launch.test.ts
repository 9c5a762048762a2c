// The worker's command line as both ends see it: what the hive builds, the worker reads back.
import { describe, expect, it } from "vitest";
import { UsageError } from "../usage-error.js";
import { parseWorkerLaunch, workerLaunchArgs, type WorkerLaunchSettings } from "./worker-launch.js";

describe("worker launch flags", () => {
  it("reads back every setting the hive builds, and leaves out the ones it does not set", () => {
    const settings: WorkerLaunchSettings = {
      modelPath: "/models/tiny.gguf",
      modelName: "tiny",
      workerId: "wrk_abc123",
      port: 8100,
      hiveChannel: "unix:/run/rbee/hive.sock",
      heartbeatIntervalMs: 250,
      threads: 1,
      contextSize: 512,
      gpu: "cuda",
      gpuLayers: "max",
      parallel: 2,
      maxQueue: 0,
      batchSize: 256,
    };
    expect(parseWorkerLaunch(workerLaunchArgs(settings))).toEqual(settings);
    const minimal = { modelPath: "/m.gguf", modelName: "m", workerId: "wrk_m", port: 1, gpu: undefined };
    expect(workerLaunchArgs(minimal)).toEqual(["--model", "/m.gguf", "--model-name", "m", "--worker-id", "wrk_m", "--port", "1"]);
  });

  it("refuses a bad flag with a UsageError that names it", () => {
    expect(() => parseWorkerLaunch(["--port", "1"])).toThrow(UsageError);
    expect(() => parseWorkerLaunch(["--port", "1"])).toThrow("--model: expected a path to a .gguf file, got nothing");
  });
});
