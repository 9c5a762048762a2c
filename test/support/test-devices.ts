// What a test hive reports about its machine (one CUDA GPU besides the CPU), for the tests that
// play a hive: inside workerd (test/queen/hive-socket.ts) and as a hostile one (test/drills).
import type { HiveDevices } from "../../shared/protocol/hive-devices.js";

export const TEST_DEVICES: HiveDevices = {
  gpus: [{ index: 0, name: "Test GPU", backend: "cuda", vramTotalBytes: 8 * 2 ** 30, vramFreeBytes: 6 * 2 ** 30 }],
  ramTotalBytes: 16 * 2 ** 30,
  ramFreeBytes: 8 * 2 ** 30,
  cpu: { model: "Test CPU", cores: 2 },
  os: "linux",
  osRelease: "6.1.0",
  arch: "x64",
  workerTypes: ["cpu", "cuda"],
};
