// EventBatch: events wait for the response, then leave in one write per turn of the event loop,
// and while they keep coming faster than the write interval, in one write per interval.
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { EventBatch } from "./event-batch.js";

function recorder(): { writes: string[]; write: (text: string) => void } {
  const writes: string[] = [];
  return { writes, write: (text) => void writes.push(text) };
}

describe("EventBatch", () => {
  it("holds events until a sink is attached, then writes them at once", () => {
    const batch = new EventBatch();
    batch.add("a");
    batch.add("b");
    const sink = recorder();
    batch.attach(sink);
    expect(sink.writes).toEqual(["ab"]);
  });

  it("writes the events of one turn together on the next turn, in order", async () => {
    const batch = new EventBatch(0);
    const sink = recorder();
    batch.attach(sink);
    batch.add("1");
    batch.add("2");
    expect(sink.writes).toEqual([]);
    await nextTurn();
    batch.add("3");
    await nextTurn();
    expect(sink.writes).toEqual(["12", "3"]);
  });

  it("sends the first event on the next turn, and gathers those that follow within the interval into one write", async () => {
    // An interval far longer than a few turns take, even on a loaded machine.
    const batch = new EventBatch(60_000);
    const sink = recorder();
    batch.attach(sink);
    batch.add("first");
    await nextTurn();
    expect(sink.writes).toEqual(["first"]);
    for (const event of ["a", "b", "c"]) {
      batch.add(event);
      await nextTurn();
    }
    expect(sink.writes).toEqual(["first"]);
    batch.flush();
    expect(sink.writes).toEqual(["first", "abc"]);
  });

  it("writes gathered events once the interval has passed, without a flush", async () => {
    const batch = new EventBatch(20);
    const sink = recorder();
    batch.attach(sink);
    batch.add("1");
    await nextTurn();
    batch.add("2");
    batch.add("3");
    while (sink.writes.length < 2) await sleep(5);
    expect(sink.writes).toEqual(["1", "23"]);
  });

  it("writes what is left when flushed, and nothing twice", async () => {
    const batch = new EventBatch();
    const sink = recorder();
    batch.attach(sink);
    batch.add("last");
    batch.flush();
    await nextTurn();
    expect(sink.writes).toEqual(["last"]);
  });
});
