// A worker started with `--llama-build <folder>` loads the llama.cpp build in that folder, the way
// a hive starts the worker of an entry whose llama.cpp it compiled. The stand-in build is a copy of
// node-llama-cpp's own prebuilt Linux x64 binaries (the same files a build leaves: the addon, its
// libraries and _nlcBuildMetadata.json), so this runs in seconds; the real compile is
// test/drills/local-build.slow.test.ts.
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatText, greedyChat, health, startWorker, writeTinyModel, type RunningWorker, type TinyModel } from "../test/support/running-worker.js";

const onLinuxX64 = process.platform === "linux" && process.arch === "x64";
let model: TinyModel;
let buildFolder: string;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  if (!onLinuxX64) return;
  model = await writeTinyModel();
  const fromLlama = createRequire(createRequire(import.meta.url).resolve("node-llama-cpp"));
  const prebuilt = path.join(path.dirname(fromLlama.resolve("@node-llama-cpp/linux-x64")), "..", "bins", "linux-x64");
  buildFolder = path.join(await mkdtemp(path.join(tmpdir(), "rbee-llama-build-")), "llama");
  await cp(prebuilt, buildFolder, { recursive: true });
});

afterAll(async () => {
  await worker?.kill();
  if (buildFolder) await rm(path.dirname(buildFolder), { recursive: true, force: true });
  await model?.remove();
});

describe.skipIf(!onLinuxX64)("a worker with --llama-build", () => {
  it("loads the llama.cpp build in that folder, not node-llama-cpp's own, and serves a chat with it", async () => {
    worker = await startWorker({ workerId: "wrk_llamabuild1", modelPath: model.path, extraArgs: ["--llama-build", buildFolder] });
    expect(await health(worker)).toMatchObject({ status: "ready" });
    expect(await chatText(worker, greedyChat({ max_tokens: 4 }))).toEqual(expect.any(String));
    const maps = await readFile(`/proc/${worker.pid}/maps`, "utf8");
    expect(maps).toContain(path.join(buildFolder, "llama-addon.node"));
    expect(maps).not.toContain(path.join("@node-llama-cpp", "linux-x64", "bins"));
  });

  it("fails to start with a message naming a folder that holds no build", async () => {
    await expect(startWorker({ workerId: "wrk_llamabuild2", modelPath: model.path, extraArgs: ["--llama-build", path.join(tmpdir(), "no-such-llama-build")] })).rejects.toThrow(
      /the llama\.cpp build in .*no-such-llama-build does not load with --gpu cpu/,
    );
  });
});
