// How a local install finds a build it compiled earlier: kept while it is of the llama.cpp this
// node-llama-cpp ships and still loads, looked past otherwise. The stand-in "earlier build" is a
// copy of node-llama-cpp's prebuilt Linux x64 files with the record a compile writes beside them;
// no tools are on PATH, so any attempt to compile would fail the test.
import { cp, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LlamaBuildDetails } from "../../../catalog/worker/llama-build-details.js";
import { findLlamaPackage, llamaCppRelease } from "./llama-source.js";
import { LLAMA_BUILD_FOLDER, provideLlamaBuild } from "./local-llama-build.js";

const onLinuxX64 = process.platform === "linux" && process.arch === "x64";
let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "rbee-llama-reuse-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** An entry folder holding an "earlier build" recorded as of `release`. */
async function entryWithEarlierBuild(name: string, release: string): Promise<{ folder: string; record: LlamaBuildDetails }> {
  const folder = path.join(root, name);
  const fromLlama = createRequire(createRequire(import.meta.url).resolve("node-llama-cpp"));
  const prebuilt = path.join(path.dirname(fromLlama.resolve("@node-llama-cpp/linux-x64")), "..", "bins", "linux-x64");
  await cp(prebuilt, path.join(folder, LLAMA_BUILD_FOLDER), { recursive: true });
  const { nodeLlamaCpp } = await llamaCppRelease(findLlamaPackage());
  const record: LlamaBuildDetails = {
    kind: "compiled",
    backend: "cpu",
    folder: LLAMA_BUILD_FOLDER,
    llamaCpp: { nodeLlamaCpp, release, commit: "a".repeat(40) },
    toolchain: { compiler: "/usr/bin/c++", compilerVersion: "12.2.0", cmakeVersion: "3.25.1", generator: "ninja" },
    fingerprint: "b".repeat(64),
    builtAt: "2026-01-01T00:00:00.000Z",
    buildSeconds: 600,
  };
  await writeFile(path.join(folder, LLAMA_BUILD_FOLDER, "rbee-llama-build.json"), JSON.stringify(record));
  return { folder, record };
}

function context() {
  const said: string[] = [];
  const messages: string[] = [];
  const narrate = (action: string, message: string) => {
    said.push(action);
    messages.push(message);
  };
  return { said, messages, value: { signal: AbortSignal.timeout(180_000), narrate, progress: () => {} } };
}

describe.skipIf(!onLinuxX64)("finding an earlier local build", { timeout: 180_000 }, () => {
  it("keeps a build of this llama.cpp that still loads, compiling nothing", async () => {
    const { release } = await llamaCppRelease(findLlamaPackage());
    const { folder, record } = await entryWithEarlierBuild("current", release);
    const { said, value } = context();
    const details = await provideLlamaBuild({ backend: "cpu", folder, rebuild: false }, value, { env: {}, platform: "linux" });
    expect(details).toEqual(record);
    expect(said).toEqual(["cached"]);
  });

  it("looks past a build of another llama.cpp release, here to the prebuilt binary, and removes it", async () => {
    const { folder } = await entryWithEarlierBuild("older", "b1");
    const { said, messages, value } = context();
    const details = await provideLlamaBuild({ backend: "cpu", folder, rebuild: false }, value, { env: {}, platform: "linux" });
    expect(details).toMatchObject({ kind: "prebuilt", backend: "cpu" });
    expect(said).toEqual(["prebuilt", "prebuilt"]);
    // A prebuilt CPU binary serves, and the operator learns that a build for this CPU may be faster.
    expect(messages.at(-1)).toMatch(/no build needed \(ask with rebuild to compile one for this very CPU/);
    await expect(stat(path.join(folder, LLAMA_BUILD_FOLDER))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
