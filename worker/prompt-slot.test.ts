// Which free slot a prompt takes (./prompt-slot.ts), through the SlotQueue that hands slots out.
import type { Token } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { promptSlotChoice } from "./prompt-slot.js";
import { SlotQueue } from "./slot-queue.js";

interface FakeSlot {
  name: string;
  held: Token[];
}

const tokens = (...ids: number[]) => ids as Token[];
const choice = (prompt: Token[]) => promptSlotChoice(prompt, (slot: FakeSlot) => slot.held);

async function taken(queue: SlotQueue<FakeSlot>, prompt: Token[]): Promise<string> {
  const lease = await queue.acquire(undefined, choice(prompt));
  lease.release();
  return lease.slot.name;
}

describe("the slot a prompt takes", () => {
  it("takes the slot holding most of the prompt, when that is at least half of it", async () => {
    const slots = [
      { name: "a", held: tokens(1, 2, 3, 4, 5, 6) },
      { name: "b", held: tokens(1, 2, 9) },
      { name: "c", held: tokens(1, 2, 3, 7) },
    ];
    const queue = new SlotQueue(slots, { maxQueue: 0, retryAfterSeconds: 1 });
    expect(await taken(queue, tokens(1, 2, 3, 4, 5, 6, 10, 11))).toBe("a");
    expect(await taken(queue, tokens(1, 2, 3, 7, 8))).toBe("c");
  });

  it("otherwise takes the slot released longest ago, leaving the conversations of the others be", async () => {
    const slots = [
      { name: "a", held: tokens(1, 2, 3) },
      { name: "b", held: tokens(1, 5, 6) },
    ];
    const queue = new SlotQueue(slots, { maxQueue: 0, retryAfterSeconds: 1 });
    // Sharing one token of four: too little to be worth a conversation another slot may go on with.
    expect(await taken(queue, tokens(1, 8, 9, 10))).toBe("a");
    expect(await taken(queue, tokens(1, 8, 9, 10))).toBe("b");
    expect(await taken(queue, tokens(20))).toBe("a");
  });

  it("takes the slot released longest ago when the request says nothing of its prompt", async () => {
    const queue = new SlotQueue([{ name: "a", held: [] }, { name: "b", held: [] }], { maxQueue: 0, retryAfterSeconds: 1 });
    const first = await queue.acquire();
    first.release();
    expect(first.slot.name).toBe("a");
    expect((await queue.acquire()).slot.name).toBe("b");
  });
});
