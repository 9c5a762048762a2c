// The spawn planner: where a worker for a model nobody serves should load, what it must stop to
// make room, and the words a person gets when it fits nowhere.
import { describe, expect, it } from "vitest";
import type { CatalogModel } from "../../shared/protocol/catalog-models.js";
import type { HiveDevices } from "../../shared/protocol/hive-devices.js";
import type { LiveWorker } from "../../queen/scheduling/contracts.js";
import type { HiveFacts } from "../../queen/scheduling/hive-facts.js";
import type { ModelPolicy } from "../../queen/scheduling/model-policy.js";
import { planSpawn, type PlanInput } from "../../queen/scheduling/spawn-planner.js";
import type { WorkerActivity } from "../../queen/scheduling/swap-policy.js";

const GIB = 1024 ** 3;
const NOW = 1_000_000_000;

function model(name: string, gib: number): CatalogModel {
  return { source: `file:/m/${name}.gguf`, name, sizeBytes: gib * GIB, memoryBytes: gib * GIB, vramBytes: gib * GIB };
}

function hive(hiveName: string, ramFreeGib: number, gpuFreeGib: number[], models: CatalogModel[]): HiveFacts {
  const devices: HiveDevices = {
    gpus: gpuFreeGib.map((free, index) => ({ index, name: `GPU ${index}`, backend: "cuda", vramTotalBytes: 24 * GIB, vramFreeBytes: free * GIB })),
    ramTotalBytes: 64 * GIB,
    ramFreeBytes: ramFreeGib * GIB,
    cpu: { model: "cpu", cores: 8 },
    os: "linux",
    osRelease: "6",
    arch: "x64",
    workerTypes: gpuFreeGib.length > 0 ? ["cpu", "cuda"] : ["cpu"],
  };
  return { hiveName, devices, models, reportedAtMs: NOW - 1000 };
}

function worker(workerId: string, hiveName: string, modelName: string, overrides: Partial<LiveWorker> = {}): LiveWorker {
  return {
    workerId,
    hiveName,
    model: modelName,
    state: "ready",
    port: 40000,
    slotsTotal: 1,
    device: "cpu",
    tokensPerSecond: 0,
    memoryRssBytes: 2 * GIB,
    memoryVramBytes: null,
    lastSeenAtMs: NOW,
    ...overrides,
  };
}

const idleLongAgo: WorkerActivity = { inFlight: 0, lastActiveAtMs: NOW - 600_000, residentSinceMs: NOW - 600_000 };

function plan(input: Partial<PlanInput> & Pick<PlanInput, "model" | "hives">) {
  return planSpawn({ workers: [], activity: () => idleLongAgo, queued: () => 0, nowMs: NOW, ...input });
}

describe("the spawn planner", () => {
  it("loads a model on the GPU with the most free memory, preferring any GPU that fits over a CPU", () => {
    const m = model("m", 4);
    const result = plan({ model: "m", hives: [hive("office", 60, [], [m]), hive("gaming-pc", 8, [5, 12], [m]), hive("laptop", 8, [6], [m])] });
    expect(result).toMatchObject({ ok: true, hiveName: "gaming-pc", workerType: "cuda", device: 1, source: "file:/m/m.gguf", stop: [] });
  });

  it("falls back to the CPU of the hive with the most free RAM when no GPU fits", () => {
    const m = model("m", 4);
    const result = plan({ model: "m", hives: [hive("small", 5, [2], [m]), hive("big", 32, [], [m])] });
    expect(result).toMatchObject({ ok: true, hiveName: "big", workerType: "cpu", stop: [] });
    expect(result).not.toHaveProperty("device");
  });

  it("keeps headroom: a model exactly the size of the free memory does not fit", () => {
    const m = model("m", 4);
    expect(plan({ model: "m", hives: [hive("tight", 4, [4], [m])] })).toMatchObject({ ok: false, code: "model_too_large" });
    expect(plan({ model: "m", hives: [hive("roomy", 4.5, [], [m])] })).toMatchObject({ ok: true, workerType: "cpu" });
  });

  it("says in words what the model needs and the most any device has, when it fits nowhere", () => {
    const m = model("x", 4.1);
    const result = plan({ model: "x", hives: [hive("gaming-pc", 1, [3.2], [m]), hive("office", 2, [], [m])] });
    expect(result).toMatchObject({ ok: false, code: "model_too_large", status: 503, retryable: false });
    if (result.ok) throw new Error("expected a refusal");
    expect(result.message).toContain("model 'x' needs about 4.1 GiB of GPU memory");
    expect(result.message).toContain("the largest free GPU has 3.2 GiB, on hive gaming-pc");
    expect(result.message).toContain("the most free RAM is 2.0 GiB, on hive office");
    // Pinned to a hive without a GPU: the words are of that hive, not of every hive that has the model.
    const pinned = plan({ model: "x", pinnedHive: "office", hives: [hive("gaming-pc", 1, [3.2], [m]), hive("office", 2, [], [m])] });
    expect(pinned).toMatchObject({ ok: false, code: "model_too_large", message: expect.stringContaining("hive 'office' reports no GPU with known free memory") });
  });

  it("answers model_not_found when no online hive has the model, or the pinned one lacks it", () => {
    expect(plan({ model: "nowhere", hives: [hive("a", 32, [], [model("m", 1)])] })).toMatchObject({ ok: false, code: "model_not_found", status: 404 });
    // A pinned hive that is offline needs no download, only to come back; one online without the model does.
    const offline = plan({ model: "m", pinnedHive: "b", hives: [hive("a", 32, [], [model("m", 1)])] });
    expect(offline).toMatchObject({ ok: false, code: "model_not_found", message: expect.stringContaining("hive 'b' is offline") });
    expect(offline).not.toMatchObject({ message: expect.stringContaining("Download") });
    const lacking = plan({ model: "m", pinnedHive: "b", hives: [hive("a", 32, [], [model("m", 1)]), hive("b", 32, [], [])] });
    expect(lacking).toMatchObject({ ok: false, code: "model_not_found", message: expect.stringMatching(/hive 'b' does not have it .* Download it/) });
  });

  it("counts what loading workers and spawns in flight will still take of the free memory", () => {
    const m = model("m", 4);
    const other = model("other", 4);
    const hives = [hive("a", 6, [], [m, other]), hive("b", 5, [], [m])];
    // Hive a has more free RAM, but a worker there is still loading a 4 GiB model (1 GiB so far).
    const loading = worker("wrk_loading", "a", "other", { state: "loading", memoryRssBytes: GIB });
    expect(plan({ model: "m", hives, workers: [loading] })).toMatchObject({ ok: true, hiveName: "b" });
    // A spawn the queen just started on b, not yet a worker, takes b's room too.
    const pendingSpawns = [{ workerId: "wrk_new", hiveName: "b", model: "m", workerType: "cpu" as const, memoryBytes: 4 * GIB }];
    expect(plan({ model: "m", hives, workers: [loading], pendingSpawns })).toMatchObject({ ok: false, code: "memory_busy" });
  });

  it("offers no second plan the memory a spawn in flight takes of the worker it stops", () => {
    // One GiB free beside worker old's 2 GiB; a spawn of 2.5 GiB in flight stops old to make room,
    // taking 1.5 GiB of its memory: 0.5 GiB will be left, too little for m's 1.1 GiB with headroom.
    const hives = [hive("a", 1, [], [model("m", 1), model("old", 2), model("big", 2.5)])];
    const workers = [worker("wrk_old", "a", "old")];
    const pendingSpawns = [{ workerId: "wrk_big", hiveName: "a", model: "big", workerType: "cpu" as const, memoryBytes: 2.5 * GIB }];
    expect(plan({ model: "m", hives, workers })).toMatchObject({ ok: true, stop: [{ workerId: "wrk_old" }] });
    expect(plan({ model: "m", hives, workers, pendingSpawns })).toMatchObject({ ok: false, code: "memory_busy" });
  });

  it("waits, rather than refuse for good, where the model does not fit as the hive last said while a spawn is in flight there", () => {
    // 2 GiB free and nothing to stop: m (3 GiB) does not fit; but a spawn on the hive is under way,
    // and the figures the hive reports next (the workers it stopped for it gone) may differ.
    const hives = [hive("a", 2, [], [model("m", 3), model("other", 1)])];
    expect(plan({ model: "m", hives })).toMatchObject({ ok: false, code: "model_too_large" });
    const pendingSpawns = [{ workerId: "wrk_other", hiveName: "a", model: "other", workerType: "cpu" as const, memoryBytes: GIB }];
    expect(plan({ model: "m", hives, pendingSpawns })).toMatchObject({ ok: false, code: "memory_busy", retryable: true });
    // A model larger than all the hive has (64 GiB of RAM) is refused for good all the same.
    const huge = [hive("a", 2, [], [model("huge", 200), model("other", 1)])];
    expect(plan({ model: "huge", hives: huge, pendingSpawns })).toMatchObject({ ok: false, code: "model_too_large" });
  });

  it("makes room by stopping the least recently used idle worker of another model", () => {
    const hives = [hive("a", 1, [], [model("m", 2.5), model("old", 2), model("recent", 2)])];
    const workers = [worker("wrk_old", "a", "old"), worker("wrk_recent", "a", "recent")];
    const activity = (w: LiveWorker): WorkerActivity => ({ ...idleLongAgo, lastActiveAtMs: w.workerId === "wrk_old" ? NOW - 500_000 : NOW - 100_000 });
    const result = plan({ model: "m", hives, workers, activity });
    expect(result).toMatchObject({ ok: true, hiveName: "a", stop: [{ workerId: "wrk_old" }] });
  });

  it("never swaps out a worker with a request in flight, one whose model has requests queued, or one loaded moments ago: it waits", () => {
    const hives = [hive("a", 1, [], [model("m", 2.5), model("busy", 2)])];
    const workers = [worker("wrk_busy", "a", "busy")];
    const inFlight = plan({ model: "m", hives, workers, activity: () => ({ ...idleLongAgo, inFlight: 1 }) });
    expect(inFlight).toMatchObject({ ok: false, code: "memory_busy", retryable: true });
    expect(plan({ model: "m", hives, workers, queued: (name) => (name === "busy" ? 3 : 0) })).toMatchObject({ ok: false, code: "memory_busy" });
    const fresh = plan({ model: "m", hives, workers, activity: () => ({ ...idleLongAgo, residentSinceMs: NOW - 10_000 }) });
    expect(fresh).toMatchObject({ ok: false, code: "memory_busy" });
    const configured = plan({ model: "m", hives, workers, activity: () => ({ ...idleLongAgo, residentSinceMs: NOW - 10_000 }), rules: { minResidencyMs: 5_000 } });
    expect(configured).toMatchObject({ ok: true, stop: [{ workerId: "wrk_busy" }] });
  });

  it("drains busy workers for a starving model: after every idle one, never one loaded moments ago, and on the device that drains fewest", () => {
    const hives = [hive("a", 1, [], [model("m", 3.5), model("busy", 2), model("idle", 2), model("fresh", 2)])];
    const busy = worker("wrk_busy", "a", "busy");
    const idle = worker("wrk_idle", "a", "idle");
    // The busy worker was used least recently, yet the idle one goes first.
    const activity = (w: LiveWorker): WorkerActivity => (w.workerId === "wrk_busy" ? { ...idleLongAgo, inFlight: 2 } : { ...idleLongAgo, lastActiveAtMs: NOW - 1000 });
    expect(plan({ model: "m", hives, workers: [busy, idle], activity })).toMatchObject({ ok: false, code: "memory_busy" });
    expect(plan({ model: "m", hives, workers: [busy, idle], activity, drainBusy: true })).toMatchObject({ ok: true, stop: [{ workerId: "wrk_idle" }, { workerId: "wrk_busy" }] });
    // A worker whose model has requests queued is busy too; one loaded moments ago is kept all the same.
    expect(plan({ model: "m", hives: [hive("a", 2, [], [model("m", 3.5), model("busy", 2)])], workers: [busy], queued: (name) => (name === "busy" ? 1 : 0), drainBusy: true })).toMatchObject({
      ok: true,
      stop: [{ workerId: "wrk_busy" }],
    });
    const fresh = worker("wrk_fresh", "a", "fresh");
    const freshActivity = (): WorkerActivity => ({ ...idleLongAgo, inFlight: 1, residentSinceMs: NOW - 10_000 });
    expect(plan({ model: "m", hives: [hive("a", 2, [], [model("m", 3.5), model("fresh", 2)])], workers: [fresh], activity: freshActivity, drainBusy: true })).toMatchObject({ ok: false, code: "memory_busy" });
    // Two hives: one would drain a busy worker, the other stops two idle ones; draining none wins.
    const drainHive = hive("a-drain", 2, [], [model("m", 3.5), model("busy", 2)]);
    const idleHive = hive("b-idle", 0, [], [model("m", 3.5), model("idle", 2)]);
    const idleTwo = [worker("wrk_idle1", "b-idle", "idle"), worker("wrk_idle2", "b-idle", "idle")];
    const busyFirst = (w: LiveWorker): WorkerActivity => (w.workerId === "wrk_busy" ? { ...idleLongAgo, inFlight: 1 } : idleLongAgo);
    expect(plan({ model: "m", hives: [drainHive, idleHive], workers: [busy, ...idleTwo], activity: busyFirst, drainBusy: true })).toMatchObject({
      ok: true,
      hiveName: "b-idle",
      stop: [{ workerId: "wrk_idle1" }, { workerId: "wrk_idle2" }],
    });
  });

  it("prefers a device where the model fits as it is over stopping anyone", () => {
    const hives = [hive("full", 1, [], [model("m", 3), model("old", 2)]), hive("free", 8, [], [model("m", 3)])];
    const result = plan({ model: "m", hives, workers: [worker("wrk_old", "full", "old")] });
    expect(result).toMatchObject({ ok: true, hiveName: "free", stop: [] });
  });

  it("passes over a suspect hive while the model fits anywhere else, and uses it when nothing else fits", () => {
    const m = model("m", 2);
    // The frozen hive has the most free memory and the first name: without suspicion it wins.
    const frozen = hive("a-frozen", 32, [20], [m, model("old", 2)]);
    const idle = hive("b-idle", 8, [], [m]);
    expect(plan({ model: "m", hives: [frozen, idle] })).toMatchObject({ ok: true, hiveName: "a-frozen" });
    expect(plan({ model: "m", hives: [frozen, idle], passOver: new Set(["a-frozen"]) })).toMatchObject({ ok: true, hiveName: "b-idle", stop: [] });
    // Another hive that must stop an idle worker to make room still beats the suspect one.
    const full = hive("c-full", 1, [], [m, model("old", 2)]);
    expect(plan({ model: "m", hives: [frozen, full], workers: [worker("wrk_old", "c-full", "old")], passOver: new Set(["a-frozen"]) })).toMatchObject({
      ok: true,
      hiveName: "c-full",
      stop: [{ workerId: "wrk_old" }],
    });
    // Nothing else fits: the suspect hive is a guess, not a refusal.
    expect(plan({ model: "m", hives: [frozen, hive("d-tiny", 1, [], [m])], passOver: new Set(["a-frozen"]) })).toMatchObject({ ok: true, hiveName: "a-frozen" });
  });
});

function policy(model: string, overrides: Partial<ModelPolicy>): ModelPolicy {
  return { model, minWorkers: 0, maxWorkers: null, preferredHives: [], workerTypes: null, keepAliveSeconds: null, source: null, updatedAtMs: NOW, ...overrides };
}

describe("the spawn planner under a model's policy", () => {
  it("ranks the preferred hives first, in their order, among those where the model fits", () => {
    const m = model("m", 2);
    const hives = [hive("big", 32, [20], [m]), hive("small", 4, [], [m]), hive("mid", 8, [], [m])];
    expect(plan({ model: "m", hives, policy: policy("m", { preferredHives: ["mid", "small"] }) })).toMatchObject({ ok: true, hiveName: "mid", workerType: "cpu" });
    // A preferred hive where the model does not fit is passed over.
    expect(plan({ model: "m", hives: [hive("tiny", 1, [], [m]), ...hives], policy: policy("m", { preferredHives: ["tiny"] }) })).toMatchObject({ ok: true, hiveName: "big", workerType: "cuda" });
  });

  it("loads only on the devices worker_types allows, and says so when none offers one", () => {
    const m = model("m", 2);
    const hives = [hive("gpu-box", 32, [20], [m])];
    expect(plan({ model: "m", hives, policy: policy("m", { workerTypes: ["cpu"] }) })).toMatchObject({ ok: true, workerType: "cpu" });
    const refused = plan({ model: "m", hives: [hive("cpu-only", 32, [], [m])], policy: policy("m", { workerTypes: ["cuda"] }) });
    expect(refused).toMatchObject({ ok: false, code: "model_policy_unmet", status: 503, retryable: false });
    if (refused.ok) throw new Error("expected a refusal");
    expect(refused.message).toContain("the policy for model 'm' allows only cuda workers");
    expect(refused.message).toContain("cpu on hive cpu-only");
  });

  it("loads a model no online hive has from the policy's source, on the device with the most free memory", () => {
    const hives = [hive("a", 8, [3], []), hive("b", 16, [10], [])];
    expect(plan({ model: "new", hives })).toMatchObject({ ok: false, code: "model_not_found" });
    const planned = plan({ model: "new", hives, policy: policy("new", { source: "hf:org/repo:new.gguf" }) });
    expect(planned).toMatchObject({ ok: true, hiveName: "b", workerType: "cuda", model: "new", source: "hf:org/repo:new.gguf" });
    // A catalog copy wins over the download.
    const inCatalog = plan({ model: "new", hives: [hive("a", 8, [3], [model("new", 1)]), hive("b", 16, [10], [])], policy: policy("new", { source: "hf:org/repo:new.gguf" }) });
    expect(inCatalog).toMatchObject({ ok: true, hiveName: "a", source: "file:/m/new.gguf" });
  });

  it("downloads the model from the policy's source to a preferred hive that lacks it, though another hive has it", () => {
    const hives = [hive("local", 32, [], [model("tiny", 1)]), hive("hive-c", 8, [], [])];
    const preferred = policy("tiny", { preferredHives: ["hive-c"], source: "hf:org/repo:tiny.gguf" });
    expect(plan({ model: "tiny", hives, policy: preferred })).toMatchObject({ ok: true, hiveName: "hive-c", source: "hf:org/repo:tiny.gguf", memoryBytes: GIB });
    // Without a source it cannot load there: the hive that has it does.
    expect(plan({ model: "tiny", hives, policy: { ...preferred, source: null } })).toMatchObject({ ok: true, hiveName: "local", source: "file:/m/tiny.gguf" });
    // A hive that is not preferred downloads nothing while one has the model.
    expect(plan({ model: "tiny", hives: [hive("local", 4, [], [model("tiny", 1)]), hive("other", 32, [], [])], policy: { ...preferred, preferredHives: [] } })).toMatchObject({
      ok: true,
      hiveName: "local",
    });
  });

  it("takes a download to need what the catalog copy needs: a preferred hive too small for it is passed over", () => {
    const hives = [hive("local", 32, [], [model("big", 6)]), hive("small", 4, [], [])];
    const preferred = policy("big", { preferredHives: ["small"], source: "hf:org/repo:big.gguf" });
    expect(plan({ model: "big", hives, policy: preferred })).toMatchObject({ ok: true, hiveName: "local", source: "file:/m/big.gguf" });
  });
});

describe("the spawn planner scaling out (alongside)", () => {
  it("places another worker only on a hive that runs none of the model, where it fits without stopping anything", () => {
    const m = model("m", 2);
    const busy = worker("wrk_busy", "first", "m");
    const beside = plan({ model: "m", alongside: true, workers: [busy], hives: [hive("first", 30, [], [m]), hive("second", 10, [], [m])] });
    expect(beside).toMatchObject({ ok: true, hiveName: "second", workerType: "cpu", stop: [] });
    // The machine that runs it has room for two, but a second CPU worker there would share its cores.
    expect(plan({ model: "m", alongside: true, workers: [busy], hives: [hive("first", 30, [], [m])] })).toMatchObject({ ok: false, retryable: true });
    // The other hive has the model but only room once an idle worker of another model stops: not for a crowd.
    const other = worker("wrk_other", "second", "o", { memoryRssBytes: 8 * GIB });
    const full = plan({ model: "m", alongside: true, workers: [busy, other], hives: [hive("first", 30, [], [m]), hive("second", 1, [], [m, model("o", 8)])] });
    expect(full).toMatchObject({ ok: false, retryable: true });
    expect(plan({ model: "m", workers: [other], hives: [hive("second", 1, [], [m, model("o", 8)])] })).toMatchObject({ ok: true, stop: [other] });
  });

  it("counts a worker being started as running there", () => {
    const m = model("m", 2);
    const pending = [{ workerId: "wrk_new", hiveName: "second", model: "m", workerType: "cpu" as const, memoryBytes: 2 * GIB }];
    const result = plan({ model: "m", alongside: true, workers: [worker("wrk_busy", "first", "m")], pendingSpawns: pending, hives: [hive("first", 30, [], [m]), hive("second", 10, [], [m])] });
    expect(result).toMatchObject({ ok: false });
  });
});
