// Scaling out with real processes: two real hives with the tiny model in their catalogs and one
// worker, on the first. While a long stream holds that worker's one slot, a second request waits,
// and the queen starts another worker on the second hive, which serves it. The official OpenAI
// client sees only its answers.
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVED_BY_HIVE_HEADER } from "../../shared/openai/inference-headers.js";
import { waitUntil } from "./local-cloud.js";
import { type LocalFleet, startLocalFleet } from "./local-fleet.js";

const MODEL = "tiny-scale";
const HIVES = ["hive-busy", "hive-idle"] as const;

describe("a busy model scaled out to another hive", () => {
  let fleet: LocalFleet;

  beforeAll(async () => {
    fleet = await startLocalFleet({ heartbeatIntervalMs: 500, hives: HIVES.map((name) => ({ name })), models: [MODEL] });
    await Promise.all(HIVES.map((hive) => fleet.download(hive, MODEL)));
    const { id } = await fleet.client.spawnWorker({ hive: "hive-busy", model: MODEL, source: fleet.source(MODEL) });
    await fleet.client.waitForWorkerReady(id, 30_000);
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
  });

  it("starts a worker on the idle hive for a request that waits behind the busy one", async () => {
    const client = fleet.openAi();
    const long: OpenAI.Chat.ChatCompletionCreateParamsStreaming = { model: MODEL, messages: [{ role: "user", content: "Go on." }], max_tokens: 3000, stream: true };
    const { data: stream, response } = await client.chat.completions.create(long).withResponse();
    expect(response.headers.get(SERVED_BY_HIVE_HEADER)).toBe("hive-busy");
    await stream[Symbol.asyncIterator]().next(); // the worker's one slot is taken now

    const waiting = client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Hi" }], max_tokens: 4 });
    await waitUntil(async () => (await fleet.workers()).some((worker) => worker.model === MODEL && worker.hive === "hive-idle"), 30_000, "a worker on hive-idle");
    expect((await waiting).choices[0]?.message.content?.length).toBeGreaterThan(0);
    stream.controller.abort();
    // Once ready, the new worker takes its share: two requests at once go to both hives.
    await waitUntil(async () => (await fleet.workers()).filter((worker) => worker.model === MODEL && worker.state === "ready").length === 2, 30_000, "both workers ready");
    const served = await Promise.all(
      [1, 2].map(async () => (await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Hi" }], max_tokens: 200 }).withResponse()).response.headers.get(SERVED_BY_HIVE_HEADER)),
    );
    expect(served.sort()).toEqual([...HIVES].sort());
  }, 120_000);

  it("sends each conversation's next turn to the worker that served the turn before, which evaluates only the new turn", async () => {
    const client = fleet.openAi();
    const opening = (topic: string) => [{ role: "user" as const, content: `Tell me about ${topic}. `.repeat(8) }];
    const turn = async (messages: OpenAI.Chat.ChatCompletionMessageParam[]) => {
      const { data, response } = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 4, temperature: 0 }).withResponse();
      return { answer: data, hive: response.headers.get(SERVED_BY_HIVE_HEADER) };
    };
    // Two conversations at once: one on each worker.
    const topics = ["the tides", "a comet"];
    const firsts = await Promise.all(topics.map((topic) => turn(opening(topic))));
    expect(new Set(firsts.map((first) => first.hive))).toEqual(new Set(HIVES));
    // Their next turns one at a time, both workers idle: each goes back to its own, though one is faster.
    for (const [index, topic] of topics.entries()) {
      const first = firsts[index];
      const said = { role: "assistant" as const, content: first?.answer.choices[0]?.message.content ?? "" };
      const next = await turn([...opening(topic), said, { role: "user", content: "And then?" }]);
      expect(next.hive).toBe(first?.hive);
      expect(next.answer.usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThanOrEqual(first?.answer.usage?.prompt_tokens ?? Infinity);
    }
  }, 60_000);
});
