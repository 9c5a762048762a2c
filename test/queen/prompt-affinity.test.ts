// A chat prompt's fingerprints (queen/scheduling/prompt-affinity.ts): the next turn of a
// conversation names the prompt of the turn before, whatever came after its answer.
import { describe, expect, it } from "vitest";
import { cacheScopeOf, PromptAffinity, promptKeysOf } from "../../queen/scheduling/prompt-affinity.js";

const system = { role: "system", content: "Be brief." };
const ask = { role: "user", content: "Weather in Paris?" };
const call = { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }] };
const result = { role: "tool", tool_call_id: "call_1", content: "sunny" };

describe("a chat prompt's fingerprints", () => {
  it("names, in a turn that goes on, the whole prompt of the turn before its last answer", () => {
    const first = promptKeysOf({ messages: [system, ask] }, "key-1");
    expect(first?.continues).toBeUndefined();
    // The answer was a call, and the client sends its result: the same conversation going on.
    const withResult = promptKeysOf({ messages: [system, ask, call, result] }, "key-1");
    expect(withResult?.continues).toBe(first?.prompt);
    const reply = { role: "assistant", content: "Sunny." };
    const next = promptKeysOf({ messages: [system, ask, call, result, reply, { role: "user", content: "And tomorrow?" }] }, "key-1");
    expect(next?.continues).toBe(withResult?.prompt);
  });

  it("tells prompts apart by every message and where each ends, and has none for a request without messages", () => {
    const keys = [
      promptKeysOf({ messages: [{ role: "user", content: "ab" }, { role: "user", content: "c" }] }, "key-1")?.prompt,
      promptKeysOf({ messages: [{ role: "user", content: "a" }, { role: "user", content: "bc" }] }, "key-1")?.prompt,
      promptKeysOf({ messages: [{ role: "user", content: "abc" }] }, "key-1")?.prompt,
      promptKeysOf({ messages: [system, ask] }, "key-1")?.prompt,
    ];
    expect(new Set(keys).size).toBe(4);
    // Another key's same conversation is another conversation: a worker reuses a key's prompts for that key only.
    expect(promptKeysOf({ messages: [system, ask] }, "key-2")?.prompt).not.toBe(promptKeysOf({ messages: [system, ask] }, "key-1")?.prompt);
    expect(cacheScopeOf("key-2")).not.toBe(cacheScopeOf("key-1"));
    expect(cacheScopeOf("key-1")).toMatch(/^[0-9a-f]{16}$/);
    expect(promptKeysOf({ prompt: "Once upon" }, "key-1")).toBeUndefined();
    expect(promptKeysOf({ messages: [] }, "key-1")).toBeUndefined();
  });

  it("remembers the worker of the latest prompts, forgetting the oldest", () => {
    const affinity = new PromptAffinity();
    const keysOf = (index: number) => promptKeysOf({ messages: [{ role: "user", content: `conversation ${index}` }] }, "key-1");
    const goingOn = (index: number) => promptKeysOf({ messages: [{ role: "user", content: `conversation ${index}` }, { role: "assistant", content: "ok" }, { role: "user", content: "more" }] }, "key-1");
    for (let index = 0; index <= 10_000; index += 1) affinity.placed(keysOf(index), `wrk_${index % 7}`);
    expect(affinity.workerFor(goingOn(0))).toBeUndefined();
    expect(affinity.workerFor(goingOn(1))).toBe("wrk_1");
    expect(affinity.workerFor(goingOn(10_000))).toBe(`wrk_${10_000 % 7}`);
  });
});
