// The worker's flag parsing, in-process: defaults, and messages that name flag, expectation and value.
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { physicalCoreCount } from "./cpu-cores.js";
import { DEFAULTS, parseWorkerOptions } from "./options.js";

const REQUIRED = ["--model", "/models/tiny.gguf", "--model-name", "tiny", "--worker-id", "wrk_abc123", "--port", "8100"];

describe("parseWorkerOptions", () => {
  it("fills every optional flag from DEFAULTS", () => {
    expect(parseWorkerOptions(REQUIRED)).toEqual({
      modelPath: "/models/tiny.gguf",
      modelName: "tiny",
      workerId: "wrk_abc123",
      port: 8100,
      hiveChannel: undefined,
      heartbeatIntervalMs: DEFAULTS.heartbeatIntervalMs,
      threads: physicalCoreCount(),
      contextSize: undefined,
      gpu: "auto",
      gpuLayers: "auto",
      parallel: 1,
      maxQueue: 2,
      batchSize: undefined,
      pollUs: DEFAULTS.pollUs,
    });
  });

  it("defaults threads to physical cores, never more than the CPUs this process may use", () => {
    expect(DEFAULTS.threads).toBeGreaterThanOrEqual(1);
    expect(DEFAULTS.threads).toBeLessThanOrEqual(availableParallelism());
  });

  it("lets twice as many requests wait as there are slots unless --max-queue says otherwise", () => {
    expect(parseWorkerOptions([...REQUIRED, "--parallel", "3"])).toMatchObject({ parallel: 3, maxQueue: 6 });
    expect(parseWorkerOptions([...REQUIRED, "--parallel", "3", "--max-queue", "0"])).toMatchObject({ parallel: 3, maxQueue: 0 });
  });

  it("reads every flag it is given", () => {
    const options = parseWorkerOptions([
      ...REQUIRED,
      "--hive-channel",
      "http://127.0.0.1:9000",
      "--heartbeat-interval-ms",
      "250",
      "--threads",
      "1",
      "--context-size",
      "512",
      "--gpu",
      "cpu",
      "--gpu-layers",
      "12",
      "--parallel",
      "4",
      "--max-queue",
      "5",
      "--batch-size",
      "256",
      "--poll-us",
      "0",
    ]);
    expect(options).toMatchObject({
      hiveChannel: "http://127.0.0.1:9000",
      heartbeatIntervalMs: 250,
      threads: 1,
      contextSize: 512,
      gpu: "cpu",
      gpuLayers: 12,
      parallel: 4,
      maxQueue: 5,
      batchSize: 256,
      pollUs: 0,
    });
    expect(parseWorkerOptions([...REQUIRED, "--gpu-layers", "max"]).gpuLayers).toBe("max");
  });

  it("names the flag, what it expected and what it got", () => {
    expect(() => parseWorkerOptions([...REQUIRED, "--port", "abc"])).toThrow('--port: expected an integer 1–65535, got "abc"');
    expect(() => parseWorkerOptions([...REQUIRED, "--port", "70000"])).toThrow('--port: expected an integer 1–65535, got "70000"');
    expect(() => parseWorkerOptions(REQUIRED.slice(2))).toThrow("--model: expected a path to a .gguf file, got nothing");
    expect(() => parseWorkerOptions([...REQUIRED, "--worker-id", "abc"])).toThrow('--worker-id: must look like wrk_');
    expect(() => parseWorkerOptions([...REQUIRED, "--parallel", "0"])).toThrow('--parallel: expected an integer 1–256, got "0"');
    expect(() => parseWorkerOptions([...REQUIRED, "--max-queue", "lots"])).toThrow('--max-queue: expected an integer 0–100000, got "lots"');
    expect(() => parseWorkerOptions([...REQUIRED, "--gpu-layers", "most"])).toThrow(
      '--gpu-layers: expected auto, max or an integer 0–9999, got "most"',
    );
    expect(() => parseWorkerOptions([...REQUIRED, "--batch-size", "0"])).toThrow('--batch-size: expected an integer 1–65536, got "0"');
    expect(() => parseWorkerOptions([...REQUIRED, "--poll-us", "-1"])).toThrow(/--poll-us/);
    expect(() => parseWorkerOptions([...REQUIRED, "--poll-us", "1.5"])).toThrow('--poll-us: expected an integer 0–1000000, got "1.5"');
  });

  it("accepts only a unix socket, a Windows named pipe or an http hive channel on a loopback host", () => {
    for (const url of ["unix:/run/rbee/hive-a.sock", "pipe:\\\\.\\pipe\\rbee-hive-a-0123", "http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:9000"]) {
      expect(parseWorkerOptions([...REQUIRED, "--hive-channel", url]).hiveChannel).toBe(url);
    }
    for (const url of ["http://10.0.0.2:9000", "https://127.0.0.1:9000", "127.0.0.1:9000", "http://127.0.0.1", "unix:relative.sock", "pipe:C:\\x"]) {
      expect(() => parseWorkerOptions([...REQUIRED, "--hive-channel", url])).toThrow(/^--hive-channel: expected unix:\/absolute\/path.sock, pipe:.* \(Windows\) or an http:\/\/ URL/);
    }
  });

  it("refuses more threads than this process may use", () => {
    const tooMany = String(availableParallelism() + 1);
    expect(() => parseWorkerOptions([...REQUIRED, "--threads", tooMany])).toThrow(`--threads: expected an integer 1–${availableParallelism()}`);
  });

  it("refuses unknown flags and stray arguments", () => {
    expect(() => parseWorkerOptions([...REQUIRED, "--prot", "1"])).toThrow("Unknown option '--prot'");
    expect(() => parseWorkerOptions([...REQUIRED, "extra"])).toThrow(/extra/);
  });
});
