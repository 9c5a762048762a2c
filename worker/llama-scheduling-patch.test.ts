import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { PATCH_MARKER, unpatchedSchedulingWarning } from "./llama-scheduling-patch.js";

describe("node-llama-cpp's scheduling patch", () => {
  it("is applied to the node-llama-cpp installed here (npm's postinstall ran patch-package)", async () => {
    expect(await unpatchedSchedulingWarning(2)).toBeUndefined();
  });

  it("is what the patch file adds", async () => {
    const patch = await readFile(new URL("../patches/node-llama-cpp+3.21.1.patch", import.meta.url), "utf8");
    expect(patch).toContain(`+                        // ${PATCH_MARKER}`);
  });

  it("says what is wrong and what to run when node-llama-cpp lacks it", async () => {
    const unpatched = async () => "shouldHaveAnotherLoop = this._queuedDecodes.length > 0;";
    const warning = await unpatchedSchedulingWarning(4, unpatched);
    expect(warning).toContain("with --parallel 4, a request on a slot used before waits for the other answers to end");
    expect(warning).toContain("npx patch-package");
  });

  it("stays quiet with one slot, and when the source cannot be read", async () => {
    expect(await unpatchedSchedulingWarning(1, async () => "unpatched")).toBeUndefined();
    expect(await unpatchedSchedulingWarning(2, () => Promise.reject(new Error("ENOENT")))).toBeUndefined();
  });
});
