import { describe, expect, it } from "vitest";
import type { HiveDevices } from "../../shared/protocol/hive-devices.js";
import { memoryShortfall } from "./memory-fit.js";

const GIB = 1024 ** 3;
const devices: HiveDevices = {
  gpus: [
    { index: 0, name: "Small GPU", backend: "cuda", vramTotalBytes: 4 * GIB, vramFreeBytes: 2 * GIB },
    { index: 1, name: "Big GPU", backend: "cuda", vramTotalBytes: 24 * GIB, vramFreeBytes: 20 * GIB },
  ],
  ramTotalBytes: 16 * GIB,
  ramFreeBytes: 8 * GIB,
  cpu: { model: "CPU", cores: 8 },
  os: "linux",
  osRelease: "6.1",
  arch: "x64",
  workerTypes: ["cpu", "cuda"],
};
const sevenB = { contextSize: 4096, cpuOnlyRamBytes: 6 * GIB, fullOffloadVramBytes: 6 * GIB };

describe("memoryShortfall", () => {
  it("says nothing when the model fits in free RAM or on a GPU", () => {
    expect(memoryShortfall(sevenB, devices, "cpu", undefined)).toBeUndefined();
    expect(memoryShortfall(sevenB, devices, "cuda", undefined)).toBeUndefined();
    expect(memoryShortfall(sevenB, devices, "cuda", 1)).toBeUndefined();
  });

  it("names what is needed and what is free when it does not fit", () => {
    expect(memoryShortfall({ ...sevenB, cpuOnlyRamBytes: 12 * GIB }, devices, "cpu", undefined)).toBe(
      "the model needs about 12.00 GiB of RAM at context 4096, and 8.00 GiB is free",
    );
    expect(memoryShortfall(sevenB, devices, "cuda", 0)).toContain("6.00 GiB of VRAM at context 4096, and 2.00 GiB is free");
  });

  it("says so when the asked GPU is not there", () => {
    expect(memoryShortfall(sevenB, devices, "metal", undefined)).toContain("no metal GPU");
    expect(memoryShortfall(sevenB, devices, "cuda", 5)).toContain("no cuda GPU #5");
  });
});
