// Scaling out with real processes: two real hives with the tiny model in their catalogs and one
// worker, on the first. While a long stream holds that worker's one slot, a second request waits,
// and the queen starts another worker on the second hive, which serves it. The official OpenAI
// client sees only its answers.
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVED_BY_HIVE_HEADER } from "../../shared/openai/inference-headers.js";
import { waitUntil } from "./local-cloud.js";
import { type ListedWorker, type LocalFleet, startLocalFleet } from "./local-fleet.js";

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
    // Once ready, the new worker takes its share: two requests at once go to both hives (once the
    // queen has heard of the long stream's client leaving, and given its lease back).
    const free = (worker: ListedWorker) => worker.model === MODEL && worker.state === "ready" && worker.requests_in_flight === 0;
    await waitUntil(async () => (await fleet.workers()).filter(free).length === 2, 30_000, "both workers ready and free");
    const served = await Promise.all(
      [1, 2].map(async () => (await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Hi" }], max_tokens: 200 }).withResponse()).response.headers.get(SERVED_BY_HIVE_HEADER)),
    );
    expect(served.sort()).toEqual([...HIVES].sort());
  }, 120_000);

  it("sends each conversation's next turn to the worker that served the turn before, which evaluates only the new turn", async () => {
    const client = fleet.openAi();
    // Two topics of one length: their openings are as many tokens.
    const topics = ["the tides", "the comet"] as const;
    const opening = (topic: string) => [{ role: "user" as const, content: `Tell me about ${topic}. `.repeat(8) }];
    const turn = async (messages: OpenAI.Chat.ChatCompletionMessageParam[]) => {
      const { data, response } = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 4, temperature: 0 }).withResponse();
      const usage = data.usage;
      return { text: data.choices[0]?.message.content ?? "", promptTokens: usage?.prompt_tokens ?? 0, cached: usage?.prompt_tokens_details?.cached_tokens ?? 0, hive: response.headers.get(SERVED_BY_HIVE_HEADER) };
    };
    // The first conversation streams a long answer, holding its worker's one slot while the second is placed.
    const { data: stream, response } = await client.chat.completions
      .create({ model: MODEL, messages: opening(topics[0]), max_tokens: 3000, logit_bias: { "4": -100 }, stream: true })
      .withResponse();
    const chunks = stream[Symbol.asyncIterator]();
    let streamed = "";
    while (streamed.length < 20) streamed += (await chunks.next()).value?.choices[0]?.delta.content ?? "";
    const second = await turn(opening(topics[1]));
    stream.controller.abort();
    const first = { text: streamed, hive: response.headers.get(SERVED_BY_HIVE_HEADER) };
    expect([first.hive, second.hive].sort()).toEqual([...HIVES].sort());
    // Its lease given back (the queen hears of the client leaving through workerd, on its own time),
    // both workers free: each conversation's next turn goes back to its own worker, though one is faster.
    await waitUntil(async () => (await fleet.workers()).every((worker) => worker.model !== MODEL || worker.requests_in_flight === 0), 20_000, "both workers free");
    // (The streamed one last: its worker hears of its cancel meanwhile, if it had not yet.)
    for (const [topic, earlier] of [[topics[1], second], [topics[0], first]] as const) {
      const next = await turn([...opening(topic), { role: "assistant", content: earlier.text }, { role: "user", content: "And then?" }]);
      expect(next.hive).toBe(earlier.hive);
      // What it held: at least the whole opening turn (as many tokens for both topics).
      expect(next.cached).toBeGreaterThanOrEqual(second.promptTokens);
    }
  }, 60_000);
});
