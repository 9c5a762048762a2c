import { describe, expect, it } from "vitest";
import type { LeaseOutcome, LeaseRequest, LiveWorker } from "../../queen/scheduling/contracts.js";
import { type Clock, Dispatcher, type NoWorkerHook } from "../../queen/scheduling/dispatcher.js";
import { parseModelTarget } from "../../queen/scheduling/model-target.js";
import { promptKeysOf } from "../../queen/scheduling/prompt-affinity.js";

/** A clock the test moves by hand: deadlines fire when the test says time passed, not when the machine is slow. */
class ManualClock implements Clock {
  nowMs = 1_700_000_000_000;
  private timers: Array<{ atMs: number; run: () => void }> = [];

  now(): number {
    return this.nowMs;
  }

  setTimer(run: () => void, delayMs: number): () => void {
    const timer = { atMs: this.nowMs + delayMs, run };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((other) => other !== timer);
    };
  }

  /** Timers set and not yet run or cancelled. */
  get pending(): number {
    return this.timers.length;
  }

  advance(ms: number): void {
    this.nowMs += ms;
    const due = this.timers.filter((timer) => timer.atMs <= this.nowMs);
    this.timers = this.timers.filter((timer) => timer.atMs > this.nowMs);
    for (const timer of due) timer.run();
  }
}

function worker(workerId: string, overrides: Partial<LiveWorker> = {}): LiveWorker {
  return {
    workerId,
    hiveName: "hive-a",
    model: "m",
    state: "ready",
    port: 40000,
    slotsTotal: 1,
    device: "cpu",
    tokensPerSecond: 0,
    memoryRssBytes: 1,
    memoryVramBytes: null,
    lastSeenAtMs: 0,
    ...overrides,
  };
}

function setup(workers: LiveWorker[], options: { maxQueue?: number; seen?: string[]; onNoWorker?: NoWorkerHook } = {}) {
  const graceMs = 5000;
  const clock = new ManualClock();
  const table = { workers };
  const dispatcher = new Dispatcher({
    clock,
    maxQueuePerModel: options.maxQueue ?? 256,
    strandedGraceMs: graceMs,
    source: {
      workersOf: (model) => table.workers.filter((candidate) => candidate.model === model),
      knowsModel: (model) => table.workers.some((candidate) => candidate.model === model) || (options.seen ?? ["m"]).includes(model),
      isHiveOnline: (hiveName) => ["hive-a", "hive-b", "hive-c"].includes(hiveName),
    },
    ...(options.onNoWorker ? { onNoWorker: options.onNoWorker } : {}),
  });
  let sequence = 0;
  const ask = (keyId = "key-1", extra: Partial<LeaseRequest> = {}): { requestId: string; outcome: Promise<LeaseOutcome> } => {
    sequence += 1;
    const requestId = `req_${sequence}`;
    const request: LeaseRequest = { requestId, model: "m", keyId, deadlineMs: clock.nowMs + 60_000, ...extra };
    return { requestId, outcome: dispatcher.acquire(request) };
  };
  return { clock, table, dispatcher, ask, graceMs };
}

/** Collects the outcomes that have settled so far, in the order they settled. */
function recorder() {
  const settled: string[] = [];
  const outcomes = new Map<string, LeaseOutcome>();
  const track = (label: string, outcome: Promise<LeaseOutcome>) => {
    void outcome.then((value) => {
      settled.push(label);
      outcomes.set(label, value);
    });
  };
  return { settled, outcomes, track };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

async function leaseOf(outcome: Promise<LeaseOutcome>): Promise<Extract<LeaseOutcome, { ok: true }>> {
  const value = await outcome;
  if (!value.ok) throw new Error(`expected a lease, got ${value.code}: ${value.message}`);
  return value;
}

describe("the dispatcher's queue", () => {
  it("says how long its queue takes to drain: the requests waiting over the slots, at the leases' average", async () => {
    const { ask, dispatcher, clock } = setup([worker("wrk_one")]);
    expect(dispatcher.drainMs("m")).toBe(0);
    const first = await leaseOf(ask().outcome);
    clock.advance(500);
    dispatcher.release(first.leaseId, "ok"); // the model's leases last 500 ms so far
    await leaseOf(ask().outcome);
    void ask().outcome;
    void ask().outcome;
    await flush();
    expect(dispatcher.drainMs("m")).toBe(1000);
  });

  it("places a slotless request (a token count) at once on a busy worker, past a full queue, and its release frees no slot", async () => {
    const { ask, dispatcher } = setup([worker("wrk_one")], { maxQueue: 1 });
    const busy = await leaseOf(ask("key-a").outcome);
    const log = recorder();
    log.track("waiting", ask("key-a").outcome);
    await flush();
    const count = await leaseOf(ask("key-b", { slotless: true }).outcome);
    expect(count.workerId).toBe("wrk_one");
    expect(dispatcher.leasesOn("wrk_one")).toBe(1);
    dispatcher.release(count.leaseId, "ok");
    await flush();
    expect(log.settled).toEqual([]); // the count held no slot, so its end frees none
    dispatcher.release(busy.leaseId, "ok");
    await flush();
    expect(log.settled).toEqual(["waiting"]);
  });

  it("queues a slotless request while no worker serves, and places it once one is ready", async () => {
    const { ask, dispatcher, table } = setup([worker("wrk_loading", { state: "loading" })]);
    const log = recorder();
    log.track("count", ask("key-a", { slotless: true }).outcome);
    await flush();
    expect(log.settled).toEqual([]);
    const ready = worker("wrk_loading");
    table.workers = [ready];
    dispatcher.onWorkerChange({ kind: "upsert", worker: ready });
    await flush();
    expect(log.settled).toEqual(["count"]);
    expect(dispatcher.leasesOn("wrk_loading")).toBe(0);
  });

  it("serves API keys in turn, each key's requests in order, so one key cannot starve another", async () => {
    const { ask, dispatcher } = setup([worker("wrk_one")]);
    const first = await leaseOf(ask("key-a").outcome);
    const log = recorder();
    for (const label of ["a2", "a3", "a4"]) log.track(label, ask("key-a").outcome);
    for (const label of ["b1", "b2"]) log.track(label, ask("key-b").outcome);
    await flush();
    expect(log.settled).toEqual([]);
    let leaseId = first.leaseId;
    for (let served = 0; served < 5; served += 1) {
      dispatcher.release(leaseId, "ok");
      await flush();
      const label = log.settled.at(-1) ?? "";
      const outcome = log.outcomes.get(label);
      if (!outcome?.ok) throw new Error(`no lease after release ${served}`);
      leaseId = outcome.leaseId;
    }
    expect(log.settled).toEqual(["a2", "b1", "a3", "b2", "a4"]);
  });

  it("serves a lost answer's continuation before the requests already waiting, and lets it past a full queue", async () => {
    const { ask, dispatcher } = setup([worker("wrk_one")], { maxQueue: 2 });
    const first = await leaseOf(ask("key-a").outcome);
    const log = recorder();
    log.track("a2", ask("key-a").outcome);
    log.track("b1", ask("key-b").outcome);
    log.track("continuation", ask("key-c", { continuing: true }).outcome);
    await flush();
    expect(dispatcher.queued("m")).toBe(3);
    dispatcher.release(first.leaseId, "ok");
    await flush();
    expect(log.settled).toEqual(["continuation"]);
  });

  it("refuses one request more than the bound with 429 queue_full and a Retry-After", async () => {
    const { ask, dispatcher } = setup([worker("wrk_one")], { maxQueue: 2 });
    await leaseOf(ask().outcome);
    ask();
    ask();
    const refused = await ask().outcome;
    expect(refused).toMatchObject({ ok: false, status: 429, code: "queue_full" });
    expect(refused.ok ? 0 : (refused.retryAfterSeconds ?? 0)).toBeGreaterThanOrEqual(1);
    expect(dispatcher.queued("m")).toBe(2);
  });

  it("answers a request still queued at its deadline with 504 queue_timeout, saying how long it waited and where it stood", async () => {
    const { ask, clock, dispatcher } = setup([worker("wrk_one")]);
    await leaseOf(ask().outcome);
    ask("key-1", { deadlineMs: clock.nowMs + 60_000 });
    const late = ask("key-1", { deadlineMs: clock.nowMs + 1000 }).outcome;
    clock.advance(1000);
    const outcome = await late;
    expect(outcome).toMatchObject({ ok: false, status: 504, code: "queue_timeout" });
    expect(outcome.ok ? "" : outcome.message).toMatch(/Waited 1\.0 s .* number 2 of 2/);
    expect(dispatcher.queued("m")).toBe(1);
  });

  it("takes a request whose client went away out of the queue", async () => {
    const { ask, dispatcher } = setup([worker("wrk_one")]);
    const first = await leaseOf(ask().outcome);
    const gone = ask();
    const next = ask();
    dispatcher.abandon(gone.requestId);
    expect(await gone.outcome).toMatchObject({ ok: false, code: "client_gone" });
    dispatcher.release(first.leaseId, "ok");
    expect((await next.outcome).ok).toBe(true);
  });
});

describe("leases and placement", () => {
  it("gives a worker at most as many leases as it has slots, and the next one when a lease ends", async () => {
    const { ask, dispatcher } = setup([worker("wrk_two", { slotsTotal: 2 })]);
    const leases = [await leaseOf(ask().outcome), await leaseOf(ask().outcome)];
    const third = recorder();
    third.track("third", ask().outcome);
    await flush();
    expect(third.settled).toEqual([]);
    expect(dispatcher.leasesOn("wrk_two")).toBe(2);
    dispatcher.release(leases[0]?.leaseId ?? "", "ok");
    await flush();
    expect(third.outcomes.get("third")).toMatchObject({ ok: true, workerId: "wrk_two" });
    // A lease given back twice counts once.
    dispatcher.release(leases[0]?.leaseId ?? "", "ok");
    expect(dispatcher.leasesOn("wrk_two")).toBe(2);
  });

  it("spreads a burst across two workers by the leases it holds, not by their last heartbeat", async () => {
    const { ask, dispatcher } = setup([worker("wrk_a", { slotsTotal: 4 }), worker("wrk_b", { slotsTotal: 4 })]);
    const placed = await Promise.all([1, 2, 3, 4, 5, 6].map(() => leaseOf(ask().outcome)));
    const onA = placed.filter((lease) => lease.workerId === "wrk_a").length;
    expect(onA).toBe(3);
    expect(dispatcher.leasesOn("wrk_b")).toBe(3);
  });

  it("prefers the faster worker when both hold as many leases", async () => {
    const { ask } = setup([worker("wrk_slow", { tokensPerSecond: 5 }), worker("wrk_fast", { tokensPerSecond: 50 })]);
    expect((await leaseOf(ask().outcome)).workerId).toBe("wrk_fast");
  });

  it("places a conversation's next turn on the worker that served the turn before, while it has a slot free", async () => {
    const { ask, dispatcher } = setup([worker("wrk_fast", { tokensPerSecond: 50 }), worker("wrk_slow", { tokensPerSecond: 5 })]);
    const story = [{ role: "user", content: "Tell me a story." }];
    const other = [{ role: "user", content: "Tell me a joke." }];
    const first = await leaseOf(ask("key-1", { promptKeys: promptKeysOf({ messages: story }, "key-1") }).outcome);
    const joke = await leaseOf(ask("key-1", { promptKeys: promptKeysOf({ messages: other }, "key-1") }).outcome);
    expect([first.workerId, joke.workerId]).toEqual(["wrk_fast", "wrk_slow"]);
    dispatcher.release(first.leaseId, "ok");
    dispatcher.release(joke.leaseId, "ok");
    // Both idle: the faster would take a new conversation, but the joke's next turn goes back to its worker.
    const jokeGoesOn = promptKeysOf({ messages: [...other, { role: "assistant", content: "A joke." }, { role: "user", content: "Another?" }] }, "key-1");
    const next = await leaseOf(ask("key-1", { promptKeys: jokeGoesOn }).outcome);
    expect(next.workerId).toBe("wrk_slow");
    // That worker busy: the turn after goes where it would anyway, rather than wait.
    const after = promptKeysOf({ messages: [...other, { role: "assistant", content: "A joke." }, { role: "user", content: "Another?" }, { role: "assistant", content: "B." }, { role: "user", content: "More?" }] }, "key-1");
    expect((await leaseOf(ask("key-1", { promptKeys: after }).outcome)).workerId).toBe("wrk_fast");
  });

  it("passes over a worker that just failed a request while another serves the model", async () => {
    const { ask, dispatcher } = setup([worker("wrk_a", { slotsTotal: 2, tokensPerSecond: 50 }), worker("wrk_b", { slotsTotal: 2 })]);
    const onA = await leaseOf(ask().outcome);
    expect(onA.workerId).toBe("wrk_a");
    dispatcher.release(onA.leaseId, "worker_failed");
    expect((await leaseOf(ask().outcome)).workerId).toBe("wrk_b");
    expect((await leaseOf(ask().outcome)).workerId).toBe("wrk_b");
  });

  it("never places a retry on the workers it excludes, and says so at once when no other serves the model", async () => {
    const { ask } = setup([worker("wrk_a"), worker("wrk_b", { tokensPerSecond: 1 })]);
    expect((await leaseOf(ask("key-1", { excludeWorkerIds: ["wrk_b"] }).outcome)).workerId).toBe("wrk_a");
    const alone = setup([worker("wrk_only")]);
    expect(await alone.ask("key-1", { excludeWorkerIds: ["wrk_only"] }).outcome).toMatchObject({ ok: false, status: 503, code: "no_worker_available" });
  });

  it("places `model@hive` only on that hive's workers", async () => {
    const { ask } = setup([worker("wrk_a", { tokensPerSecond: 99 }), worker("wrk_b", { hiveName: "hive-b" })]);
    const target = parseModelTarget("m@hive-b");
    expect(target).toEqual({ model: "m", hive: "hive-b" });
    expect((await leaseOf(ask("key-1", target).outcome)).workerId).toBe("wrk_b");
    expect(await ask("key-1", { hive: "hive-c" }).outcome).toMatchObject({ ok: false, code: "no_worker_available" });
    expect(await ask("key-1", { hive: "hive-gone" }).outcome).toMatchObject({ ok: false, status: 503, code: "hive_not_connected", retryAfterSeconds: expect.any(Number) });
  });

  it("answers a request waiting for a worker on its pinned hive 503 hive_not_connected once that hive goes", async () => {
    const online = new Set(["hive-a", "hive-c"]);
    const dispatcher = new Dispatcher({
      clock: new ManualClock(),
      maxQueuePerModel: 8,
      source: { workersOf: () => [], knowsModel: () => true, isHiveOnline: (hiveName) => online.has(hiveName) },
      onNoWorker: () => "spawning",
    });
    const pinned = dispatcher.acquire({ requestId: "req_pinned", model: "m", hive: "hive-c", keyId: "key-1", deadlineMs: Date.now() + 60_000 });
    const elsewhere = recorder();
    elsewhere.track("other", dispatcher.acquire({ requestId: "req_other", model: "m", hive: "hive-a", keyId: "key-1", deadlineMs: Date.now() + 60_000 }));
    online.delete("hive-c");
    dispatcher.hiveOffline("hive-c");
    expect(await pinned).toMatchObject({ ok: false, status: 503, code: "hive_not_connected" });
    await flush();
    expect(elsewhere.settled).toEqual([]);
  });

  it("reads `name@suffix` as a model of that whole name when such a model is known and `name` is not", async () => {
    const { ask } = setup([worker("wrk_at", { model: "llama@q4" })]);
    expect((await leaseOf(ask("key-1", parseModelTarget("llama@q4")).outcome)).workerId).toBe("wrk_at");
  });
});

describe("a model without a serving worker", () => {
  it("keeps the requests of a worker that went with its hive waiting a moment, and serves them when it is back", async () => {
    const { ask, clock, dispatcher, table, graceMs } = setup([worker("wrk_blip")]);
    const first = await leaseOf(ask().outcome);
    const log = recorder();
    log.track("waiting", ask().outcome);
    table.workers = [];
    dispatcher.onWorkerChange({ kind: "gone", workerId: "wrk_blip", model: "m", hiveName: "hive-a" }, "hive_offline");
    dispatcher.release(first.leaseId, "worker_failed");
    clock.advance(graceMs - 1);
    await flush();
    expect(log.settled).toEqual([]);
    const back = worker("wrk_blip");
    table.workers = [back];
    dispatcher.onWorkerChange({ kind: "upsert", worker: back });
    await flush();
    expect(log.outcomes.get("waiting")).toMatchObject({ ok: true, workerId: "wrk_blip" });
  });

  it("refuses the requests of a worker that went with its hive once the grace has passed", async () => {
    const { ask, clock, dispatcher, table, graceMs } = setup([worker("wrk_away")]);
    await leaseOf(ask().outcome);
    const waiting = ask().outcome;
    table.workers = [];
    dispatcher.onWorkerChange({ kind: "gone", workerId: "wrk_away", model: "m", hiveName: "hive-a" }, "heartbeats_missed");
    clock.advance(graceMs);
    const outcome = await waiting;
    expect(outcome).toMatchObject({ ok: false, code: "no_worker_available" });
    expect(outcome.ok ? "" : outcome.message).toContain("stopped heartbeating");
  });

  it("keeps one timer per model however many of its workers go, and gives the last one to go its whole grace", async () => {
    const { ask, clock, dispatcher, table, graceMs } = setup([worker("wrk_only")]);
    await leaseOf(ask().outcome);
    const log = recorder();
    log.track("waiting", ask().outcome);
    const timersBefore = clock.pending;
    table.workers = [];
    // Hives dropping at once take thousands of workers with them.
    for (let n = 0; n < 5000; n += 1) dispatcher.onWorkerChange({ kind: "gone", workerId: `wrk_many${n}`, model: "m", hiveName: "hive-a" }, "hive_offline");
    expect(clock.pending - timersBefore).toBe(1);
    clock.advance(graceMs - 1000);
    dispatcher.onWorkerChange({ kind: "gone", workerId: "wrk_only", model: "m", hiveName: "hive-a" }, "hive_offline");
    clock.advance(1000); // the first workers' grace is over, the last one's is not
    await flush();
    expect(log.settled).toEqual([]);
    clock.advance(graceMs - 1000);
    await flush();
    expect(log.outcomes.get("waiting")).toMatchObject({ ok: false, code: "no_worker_available" });
  });

  it("answers a model never seen with 404 model_not_found", async () => {
    const { ask } = setup([], { seen: [] });
    expect(await ask().outcome).toMatchObject({ ok: false, status: 404, code: "model_not_found" });
  });

  it("queues behind a loading worker and counts the wait as spawn time", async () => {
    const { ask, clock, dispatcher, table } = setup([worker("wrk_load", { state: "loading" })]);
    const waiting = ask().outcome;
    clock.advance(3000);
    const ready = worker("wrk_load");
    table.workers = [ready];
    dispatcher.onWorkerChange({ kind: "upsert", worker: ready });
    const lease = await leaseOf(waiting);
    expect(lease.timing).toEqual({ queueMs: 0, spawnMs: 3000 });
  });

  it("says how long a refused request waited: for a spawn that failed, in the queue until its deadline, not at all when refused at once", async () => {
    let spawn: "spawning" | "failed" = "spawning";
    const failing = setup([], { onNoWorker: () => (spawn === "spawning" ? "spawning" : { ok: false, status: 503, code: "spawn_failed", message: "the spawn failed" }) });
    const waiting = failing.ask().outcome;
    failing.clock.advance(2500);
    spawn = "failed";
    failing.dispatcher.reconsider("m");
    expect(await waiting).toMatchObject({ ok: false, code: "spawn_failed", timing: { queueMs: 0, spawnMs: 2500 } });
    expect(await failing.ask().outcome).not.toHaveProperty("timing");

    const busy = setup([worker("wrk_busy")]);
    await leaseOf(busy.ask().outcome);
    const queued = busy.ask("key-1", { deadlineMs: busy.clock.nowMs + 4000 }).outcome;
    busy.clock.advance(4000);
    expect(await queued).toMatchObject({ ok: false, status: 504, code: "queue_timeout", timing: { queueMs: 4000, spawnMs: 0 } });
  });

  it("says what became of the model's last worker rather than 'right now'", async () => {
    const { ask, clock, dispatcher, table } = setup([worker("wrk_gone")]);
    table.workers = [];
    dispatcher.onWorkerChange({ kind: "gone", workerId: "wrk_gone", model: "m", hiveName: "hive-a" }, "deleted");
    const outcome = await ask().outcome;
    expect(outcome).toMatchObject({ ok: false, status: 503, code: "no_worker_available" });
    expect(outcome.ok ? "" : outcome.message).toContain(`its last worker was deleted at ${new Date(clock.nowMs).toISOString()}`);
    expect(outcome.ok ? "" : outcome.message).not.toContain("hive-a");
  });

  it("refuses the requests waiting for a worker that went, unless the spawner starts another", async () => {
    const refusing = setup([worker("wrk_one")]);
    await leaseOf(refusing.ask().outcome);
    const waiting = refusing.ask().outcome;
    refusing.table.workers = [];
    refusing.dispatcher.onWorkerChange({ kind: "gone", workerId: "wrk_one", model: "m", hiveName: "hive-a" }, "stopped");
    expect(await waiting).toMatchObject({ ok: false, code: "no_worker_available" });

    const spawns: string[] = [];
    const spawning = setup([worker("wrk_one")], { onNoWorker: (model) => (spawns.push(model), "spawning") });
    await leaseOf(spawning.ask().outcome);
    const held = recorder();
    held.track("held", spawning.ask().outcome);
    spawning.table.workers = [];
    spawning.dispatcher.onWorkerChange({ kind: "gone", workerId: "wrk_one", model: "m", hiveName: "hive-a" }, "stopped");
    await flush();
    expect(held.settled).toEqual([]);
    expect(spawns).toEqual(["m"]);
    const fresh = worker("wrk_new");
    spawning.table.workers = [fresh];
    spawning.dispatcher.onWorkerChange({ kind: "upsert", worker: fresh });
    await flush();
    expect(held.outcomes.get("held")).toMatchObject({ ok: true, workerId: "wrk_new" });
  });
});
