// Anthropic's POST /v1/messages/count_tokens through the real queen: a worker counts the prompt
// without generating (INPUT_TOKENS_PATH), which bills nothing, whatever its hive claims; a hive or
// worker of a version before that count gets the one-token chat it got before.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { INPUT_TOKENS_PATH, INPUT_TOKENS_PROTOCOL } from "../../shared/protocol/hive-frames.js";
import { chat, createKey, usageRows } from "./admin-api.js";
import { eventually, helloFrame, listModelIds, TestHive } from "./hive-socket.js";
import { hiveServing, keepBeating, spawnWorker } from "./job-client.js";

function countTokens(key: string, model: string): Promise<Response> {
  return SELF.fetch("https://queen/v1/messages/count_tokens", {
    method: "POST",
    headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model, system: "Be brief.", messages: [{ role: "user", content: "How many?" }] }),
  });
}

const chatAnswer = (promptTokens: number) => JSON.stringify({ id: "chatcmpl-1", object: "chat.completion", created: 1, model: "m", choices: [{ index: 0, message: { role: "assistant", content: "x" }, finish_reason: "length" }], usage: { prompt_tokens: promptTokens, completion_tokens: 1, total_tokens: promptTokens + 1 } });

describe("count_tokens", () => {
  it("asks a worker to count without generating, and bills nothing even when the hive claims usage", async () => {
    const hive = await hiveServing("count-hive", "count-model");
    const { id, key } = await createKey(["inference"]);
    const answer = countTokens(key, "count-model");
    const request = await hive.next("request");
    expect(request.path).toBe(INPUT_TOKENS_PATH);
    // The chat request the count is of: the system prompt first, no budget of tokens to generate.
    expect(JSON.parse(request.body)).toEqual({ model: "count-model", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "How many?" }] });
    hive.respond(request.requestId, 200, JSON.stringify({ object: "chat.completion.input_tokens", input_tokens: 4242, usage: { prompt_tokens: 1e6, completion_tokens: 1e6 } }));
    const response = await answer;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ input_tokens: 4242 });
    await eventually(async () => (await usageRows(`key_id=${id}`)).length === 1);
    expect((await usageRows(`key_id=${id}`))[0]).toMatchObject({ requests: 1, prompt_tokens: 0, completion_tokens: 0 });
  });

  it("reaches a worker whose one slot is busy at once: a count takes no slot", async () => {
    const hive = await hiveServing("count-busy-hive", "count-busy-model");
    const { key } = await createKey(["inference"]);
    const chatting = chat(key, "count-busy-model");
    const generation = await hive.next("request");
    expect(generation.path).toBe("/v1/chat/completions");
    const counting = countTokens(key, "count-busy-model");
    const count = await hive.next("request");
    expect(count.path).toBe(INPUT_TOKENS_PATH);
    hive.respond(count.requestId, 200, JSON.stringify({ object: "chat.completion.input_tokens", input_tokens: 9 }));
    expect(await (await counting).json()).toEqual({ input_tokens: 9 });
    hive.respond(generation.requestId, 200, chatAnswer(3));
    expect((await chatting).status).toBe(200);
  });

  it("counts with a one-token chat where the worker has no count (404 not_found), and passes any other 404 on", async () => {
    const hive = await hiveServing("count-old-worker-hive", "count-old-worker-model");
    const { key } = await createKey(["inference"]);
    const answer = countTokens(key, "count-old-worker-model");
    const first = await hive.next("request");
    expect(first.path).toBe(INPUT_TOKENS_PATH);
    hive.respond(first.requestId, 404, JSON.stringify({ error: { message: `No route for POST ${INPUT_TOKENS_PATH}`, type: "invalid_request_error", param: null, code: "not_found" } }));
    const second = await hive.next("request");
    expect(second.path).toBe("/v1/chat/completions");
    expect(JSON.parse(second.body)).toMatchObject({ max_tokens: 1 });
    hive.respond(second.requestId, 200, chatAnswer(17));
    expect(await (await answer).json()).toEqual({ input_tokens: 17 });

    const unknown = await countTokens(key, "no-such-model");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
  });

  it("counts with a one-token chat on a hive of a protocol before the count", async () => {
    const name = "count-old-hive";
    const hive = await TestHive.connect(name, await TestHive.register(name));
    hive.send(helloFrame([], INPUT_TOKENS_PROTOCOL - 1));
    await hive.next("welcome");
    const workerId = await spawnWorker(hive, "count-old-hive-model");
    keepBeating(hive, workerId, "count-old-hive-model");
    await eventually(async () => (await listModelIds()).includes("count-old-hive-model"));
    const { key } = await createKey(["inference"]);
    const answer = countTokens(key, "count-old-hive-model");
    const request = await hive.next("request");
    expect(request.path).toBe("/v1/chat/completions");
    hive.respond(request.requestId, 200, chatAnswer(21));
    expect(await (await answer).json()).toEqual({ input_tokens: 21 });
  });
});
