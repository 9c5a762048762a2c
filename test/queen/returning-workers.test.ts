// Workers expected back (their hive's socket dropped, or a hello listed them before they beat):
// awaited until heard from or given up, and their models planned again once given up.
import { describe, expect, it } from "vitest";
import { ReturningWorkers } from "../../queen/scheduling/returning-workers.js";

describe("returning workers", () => {
  it("awaits a worker of a hive that dropped until it beats again", () => {
    const returning = new ReturningWorkers(() => {});
    returning.away("hive-a", [{ workerId: "wrk_1", model: "m" }], Date.now() + 60_000);
    expect(returning.isAwaited("m")).toBe(true);
    expect(returning.isAwaited("m", "hive-b")).toBe(false);
    expect(returning.isAwaited("other")).toBe(false);
    returning.settle("wrk_1");
    expect(returning.isAwaited("m")).toBe(false);
  });

  it("forgets the workers a hello leaves out, and keeps the longer wait of those it lists", () => {
    const returning = new ReturningWorkers(() => {});
    const later = Date.now() + 60_000;
    returning.away("hive-a", [{ workerId: "wrk_kept", model: "kept" }, { workerId: "wrk_lost", model: "lost" }], later);
    returning.listedInHello("hive-a", [{ workerId: "wrk_kept", model: "kept" }], Date.now() - 1);
    expect(returning.isAwaited("lost")).toBe(false);
    expect(returning.isAwaited("kept")).toBe(true);
    returning.settle("wrk_kept");
  });

  it("gives up a worker that stays silent, and has its model planned again", async () => {
    let givenUp: (model: string) => void = () => {};
    const next = new Promise<string>((resolve) => (givenUp = resolve));
    const returning = new ReturningWorkers((model) => givenUp(model));
    returning.listedInHello("hive-a", [{ workerId: "wrk_silent", model: "silent-model" }], Date.now() + 20);
    expect(returning.isAwaited("silent-model")).toBe(true);
    expect(await next).toBe("silent-model");
    expect(returning.isAwaited("silent-model")).toBe(false);
  });
});
