// workerEnv: what a spawned worker's environment holds — the hive's, less its secrets, plus the
// variable that pins the worker to its GPU.
import { describe, expect, it } from "vitest";
import { workerEnv } from "./spawn-worker.js";

const HIVE_ENV = {
  PATH: "/usr/bin:/bin",
  HOME: "/home/rbee",
  LD_LIBRARY_PATH: "/usr/local/cuda/lib64",
  RBEE_HIVE_TOKEN: "hive-token",
  RBEE_ADMIN_KEY: "admin-key",
  RBEE_API_KEY: "api-key",
  HF_TOKEN: "hf_secret",
  HUGGING_FACE_HUB_TOKEN: "hf_secret_too",
  GITHUB_TOKEN: "ghp_secret",
};

describe("workerEnv", () => {
  it("keeps the hive's environment but none of its tokens or keys", () => {
    const env = workerEnv(HIVE_ENV, "cpu", undefined);
    expect(env).toEqual({ PATH: "/usr/bin:/bin", HOME: "/home/rbee", LD_LIBRARY_PATH: "/usr/local/cuda/lib64" });
  });

  it("leaves the hive's own environment untouched", () => {
    const hiveEnv = { ...HIVE_ENV };
    workerEnv(hiveEnv, "cuda", 1);
    expect(hiveEnv).toEqual(HIVE_ENV);
  });

  it("pins a CUDA worker to its GPU by PCI bus order, the order nvidia-smi numbers them in", () => {
    const env = workerEnv(HIVE_ENV, "cuda", 1);
    expect(env).toMatchObject({ CUDA_DEVICE_ORDER: "PCI_BUS_ID", CUDA_VISIBLE_DEVICES: "1" });
    expect(env.HF_TOKEN).toBeUndefined();
  });

  it("pins a Vulkan worker through ggml's variable", () => {
    const env = workerEnv(HIVE_ENV, "vulkan", 0);
    expect(env.GGML_VK_VISIBLE_DEVICES).toBe("0");
    expect(env.CUDA_VISIBLE_DEVICES).toBeUndefined();
  });

  it("sets no device variable without an index, nor for Metal or the CPU", () => {
    for (const [gpu, index] of [["cuda", undefined], ["metal", 0], ["cpu", 0]] as const) {
      const env = workerEnv({ PATH: "/bin" }, gpu, index);
      expect(env, `${gpu} ${String(index)}`).toEqual({ PATH: "/bin" });
    }
  });

  it("overrides a device variable the hive itself was started with", () => {
    const env = workerEnv({ CUDA_VISIBLE_DEVICES: "0,1", CUDA_DEVICE_ORDER: "FASTEST_FIRST" }, "cuda", 1);
    expect(env).toEqual({ CUDA_VISIBLE_DEVICES: "1", CUDA_DEVICE_ORDER: "PCI_BUS_ID" });
  });
});
