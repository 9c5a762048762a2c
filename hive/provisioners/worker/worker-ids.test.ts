// Worker ids and release asset names in every spelling the catalog meets: the platform suffixes
// `-linux`, `-macos`, `-windows` with the old `-darwin`/`-win32` as aliases, one catalog key per
// worker, and asset names with or without the version.
import { describe, expect, it } from "vitest";
import { catalogPlatform, hostPlatform, platformSpellings } from "../../catalog/worker/worker-platform.js";
import { canonicalWorkerId, parseWorkerId } from "./parse-worker-id.js";
import { parseReleaseAssetName, releaseAssetNames } from "./release-asset-names.js";

describe("worker platforms", () => {
  it("names Node's platforms as the catalog does, and keeps others as Node names them", () => {
    expect(["linux", "darwin", "win32", "freebsd"].map(catalogPlatform)).toEqual(["linux", "macos", "windows", "freebsd"]);
    expect(["macos", "windows"].map(catalogPlatform)).toEqual(["macos", "windows"]);
    expect(hostPlatform()).toBe(catalogPlatform(process.platform));
  });

  it("knows every spelling of a platform, the catalog's first", () => {
    expect(platformSpellings("darwin")).toEqual(["macos", "darwin"]);
    expect(platformSpellings("windows")).toEqual(["windows", "win32"]);
    expect(platformSpellings("linux")).toEqual(["linux"]);
  });
});

describe("worker ids", () => {
  it.each([
    ["cpu-llm-worker-rbee-v0.1.0-linux", { workerType: "cpu", version: "0.1.0", platform: "linux" }],
    ["metal-llm-worker-rbee-v0.1.0-macos", { workerType: "metal", version: "0.1.0", platform: "macos" }],
    ["metal-llm-worker-rbee-v0.1.0-darwin", { workerType: "metal", version: "0.1.0", platform: "macos" }],
    ["cuda-llm-worker-rbee-v0.2.0-rc.1-windows", { workerType: "cuda", version: "0.2.0-rc.1", platform: "windows" }],
    ["vulkan-llm-worker-rbee-v1.2.3-win32", { workerType: "vulkan", version: "1.2.3", platform: "windows" }],
  ])("reads %s", (id, parts) => {
    expect(parseWorkerId(id)).toEqual(parts);
  });

  it("gives the old and new spellings of one worker one catalog key", () => {
    expect(canonicalWorkerId("metal-llm-worker-rbee-v0.1.0-darwin")).toBe("metal-llm-worker-rbee-v0.1.0-macos");
    expect(canonicalWorkerId("cpu-llm-worker-rbee-v0.1.0-win32")).toBe("cpu-llm-worker-rbee-v0.1.0-windows");
    expect(canonicalWorkerId("cpu-llm-worker-rbee-v0.1.0-linux")).toBe("cpu-llm-worker-rbee-v0.1.0-linux");
  });

  it.each(["tpu-llm-worker-rbee-v0.1.0-linux", "cpu-llm-worker-rbee-0.1.0-linux", "cpu-llm-worker-rbee-v0.1-linux", "cpu-llm-worker-rbee-v0.1.0", "cpu-llm-worker-rbee-v0.1.0-../x", "CPU-llm-worker-rbee-v0.1.0-linux"])(
    "refuses %j, saying the form an id takes",
    (id) => {
      expect(() => parseWorkerId(id)).toThrowError(
        expect.objectContaining({ status: 400, code: "invalid_worker_id", message: expect.stringContaining("is not of the form <cpu|cuda|metal|vulkan>-llm-worker-rbee-v<version>-<platform>") }),
      );
    },
  );
});

describe("release asset names", () => {
  it("looks for the archive with the version first, then other forms, then the names without the version and the old platform spellings", () => {
    const names = releaseAssetNames("metal", "0.2.0", "macos").map((each) => `${each.name} ${each.form}`);
    expect(names.slice(0, 4)).toEqual([
      "metal-llm-worker-rbee-v0.2.0-macos.tar.gz archive",
      "metal-llm-worker-rbee-v0.2.0-macos native",
      "metal-llm-worker-rbee-v0.2.0-macos.mjs node",
      "metal-llm-worker-rbee-v0.2.0-macos.js node",
    ]);
    expect(names).toContain("metal-llm-worker-rbee-v0.2.0-darwin.tar.gz archive");
    expect(names).toContain("metal-llm-worker-rbee-macos.tar.gz archive");
    expect(names.at(-1)).toBe("metal-llm-worker-rbee-darwin.js node");
  });

  it("reads an asset name with or without the version, in either platform spelling", () => {
    expect(parseReleaseAssetName("cuda-llm-worker-rbee-v0.2.0-linux.tar.gz")).toEqual({ workerType: "cuda", version: "0.2.0", platform: "linux", form: "archive" });
    expect(parseReleaseAssetName("cpu-llm-worker-rbee-darwin")).toEqual({ workerType: "cpu", version: null, platform: "macos", form: "native" });
    expect(parseReleaseAssetName("cpu-llm-worker-rbee-v1.0.0-rc.2-win32.mjs")).toEqual({ workerType: "cpu", version: "1.0.0-rc.2", platform: "windows", form: "node" });
    expect(parseReleaseAssetName("SHA256SUMS")).toBeUndefined();
    expect(parseReleaseAssetName("tpu-llm-worker-rbee-linux")).toBeUndefined();
  });
});
