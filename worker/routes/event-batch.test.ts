// EventBatch: events wait for the response, then leave in one write per turn of the event loop.
import { setImmediate as nextTurn } from "node:timers/promises";
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
    const batch = new EventBatch();
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
