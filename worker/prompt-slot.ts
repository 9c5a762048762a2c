// Which free slot a prompt goes to. Each slot keeps the tokens of its last request (prompt and
// answer) evaluated, and a request evaluates only what its prompt does not share with them: the
// next turn of a conversation on the slot that served the turn before costs the new turn alone.
// So a prompt most of which a free slot holds takes that slot; any other takes the slot released
// longest ago, whose conversation is the least likely to go on, and leaves the fresher ones be.
// llama.cpp's server chooses alike (`--slot-prompt-similarity`, 0.5 by default).
import type { Token } from "node-llama-cpp";
import type { SlotChoice } from "./slot-queue.js";

/** The share of a prompt a slot must hold already to be chosen for it. */
const SIMILARITY = 0.5;

/** The choice for `prompt`, among slots whose evaluated tokens `heldOf` reads. */
export function promptSlotChoice<Slot>(prompt: readonly Token[], heldOf: (slot: Slot) => readonly Token[]): SlotChoice<Slot> {
  return (free) => {
    // One free slot is no choice: its tokens (a copy of the whole context) are not read.
    if (free.length < 2) return 0;
    let best = 0;
    let bestShared = 0;
    for (const [index, slot] of free.entries()) {
      const shared = sharedPrefixLength(heldOf(slot), prompt);
      if (shared > bestShared) {
        best = index;
        bestShared = shared;
      }
    }
    return bestShared > 0 && bestShared >= SIMILARITY * prompt.length ? best : 0;
  };
}

function sharedPrefixLength(held: readonly Token[], prompt: readonly Token[]): number {
  const most = Math.min(held.length, prompt.length);
  let length = 0;
  while (length < most && held[length] === prompt[length]) length += 1;
  return length;
}
