// workerEnv: what a spawned worker's environment holds — the allowed part of the hive's (what a
// process and its GPU runtime need, no credentials), the variable that pins the worker to its
// GPU, and its API secret.
import { describe, expect, it } from "vitest";
import { WORKER_SECRET_ENV } from "../../shared/protocol/worker-launch.js";
import { workerEnv } from "./worker-env.js";

const SECRET = "s".repeat(64);

/** What a worker needs of the hive's environment: passed on unchanged. */
const PASSED_ON = {
  PATH: "/usr/bin:/bin",
  HOME: "/home/rbee",
  LANG: "en_US.UTF-8",
  LC_ALL: "C.UTF-8",
  XDG_CACHE_HOME: "/home/rbee/.cache",
  LD_LIBRARY_PATH: "/usr/local/cuda/lib64",
  CUDA_CACHE_PATH: "/tmp/cuda",
  GGML_CUDA_NO_PINNED: "1",
  NODE_LLAMA_CPP_DEBUG: "true",
};

/** The hive's credentials and settings meant for it alone: never passed on. */
const WITHHELD = {
  RBEE_HIVE_TOKEN: "hive-token",
  RBEE_ADMIN_KEY: "admin-key",
  HF_TOKEN: "hf_secret",
  GITHUB_TOKEN: "ghp_secret",
  AWS_SECRET_ACCESS_KEY: "aws-secret",
  OPENAI_API_KEY: "sk-secret",
  HTTPS_PROXY: "http://user:password@proxy:3128",
  NODE_OPTIONS: "--inspect=0.0.0.0:9229",
  LD_PRELOAD: "/tmp/evil.so",
};

const HIVE_ENV = { ...PASSED_ON, ...WITHHELD };

describe("workerEnv", () => {
  it("passes on what a process and its GPU runtime need, and none of the hive's credentials", () => {
    expect(workerEnv(HIVE_ENV, "cpu", undefined, SECRET)).toEqual({ ...PASSED_ON, [WORKER_SECRET_ENV]: SECRET });
  });

  it("keeps the variables Windows needs, whatever their case", () => {
    const env = workerEnv({ Path: "C:\\Windows", SystemRoot: "C:\\Windows", windir: "C:\\Windows", APPDATA: "C:\\Users\\r\\AppData\\Roaming" }, "cuda", undefined, SECRET);
    expect(Object.keys(env).sort()).toEqual(["APPDATA", "Path", "SystemRoot", WORKER_SECRET_ENV, "windir"].sort());
  });

  it("replaces a worker secret the hive's own environment carries", () => {
    expect(workerEnv({ [WORKER_SECRET_ENV]: "someone-elses" }, "cpu", undefined, SECRET)[WORKER_SECRET_ENV]).toBe(SECRET);
  });

  it("leaves the hive's own environment untouched", () => {
    const hiveEnv = { ...HIVE_ENV };
    workerEnv(hiveEnv, "cuda", 1, SECRET);
    expect(hiveEnv).toEqual(HIVE_ENV);
  });

  it("pins a CUDA worker to its GPU by PCI bus order, the order nvidia-smi numbers them in", () => {
    const env = workerEnv(HIVE_ENV, "cuda", 1, SECRET);
    expect(env).toMatchObject({ CUDA_DEVICE_ORDER: "PCI_BUS_ID", CUDA_VISIBLE_DEVICES: "1" });
  });

  it("pins a Vulkan worker through ggml's variable", () => {
    const env = workerEnv(HIVE_ENV, "vulkan", 0, SECRET);
    expect(env.GGML_VK_VISIBLE_DEVICES).toBe("0");
    expect(env.CUDA_VISIBLE_DEVICES).toBeUndefined();
  });

  it("sets no device variable without an index, nor for Metal or the CPU", () => {
    for (const [gpu, index] of [["cuda", undefined], ["metal", 0], ["cpu", 0]] as const) {
      const env = workerEnv({ PATH: "/bin" }, gpu, index, SECRET);
      expect(env, `${gpu} ${String(index)}`).toEqual({ PATH: "/bin", [WORKER_SECRET_ENV]: SECRET });
    }
  });

  it("overrides a device variable the hive itself was started with", () => {
    const env = workerEnv({ CUDA_VISIBLE_DEVICES: "0,1", CUDA_DEVICE_ORDER: "FASTEST_FIRST" }, "cuda", 1, SECRET);
    expect(env).toEqual({ CUDA_VISIBLE_DEVICES: "1", CUDA_DEVICE_ORDER: "PCI_BUS_ID", [WORKER_SECRET_ENV]: SECRET });
  });
});
