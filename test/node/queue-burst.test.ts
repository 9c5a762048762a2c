// The queue in the queen, for real: the official OpenAI client with its retries off sends a burst
// far larger than the worker's slots to a real queen, hive and tiny-model worker, and every
// request is answered in full: the queen queues what the worker cannot take yet.
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WAITING_COMMENT } from "../../queen/streams/early-stream-head.js";
import { SERVED_BY_HIVE_HEADER, SERVER_TIMING_HEADER } from "../../shared/openai/inference-headers.js";
import { waitUntil } from "../../shared/wait-until.js";
import { type LocalCloud, openAiClient, startLocalCloud, TINY_MODEL } from "./local-cloud.js";

const HIVE_NAME = "burst-hive";

describe("a burst through the queen's queue", () => {
  let cloud: LocalCloud;
  let openai: OpenAI;

  beforeAll(async () => {
    cloud = await startLocalCloud({ heartbeatIntervalMs: 1000, hiveName: HIVE_NAME });
    const worker = await cloud.client.spawnWorker({ hive: HIVE_NAME, model: TINY_MODEL, source: cloud.modelSource });
    await cloud.client.waitForWorkerReady(worker.id, 60_000);
    openai = openAiClient(cloud);
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  const ask = { model: TINY_MODEL, messages: [{ role: "user" as const, content: "Count." }], max_tokens: 6, temperature: 0 };

  it("answers 64 concurrent chats and 16 concurrent streams in full, none refused", async () => {
    const chats = Array.from({ length: 64 }, () => openai.chat.completions.create(ask));
    const streams = Array.from({ length: 16 }, async () => {
      const stream = await openai.chat.completions.create({ ...ask, stream: true });
      let text = "";
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        finish ??= chunk.choices[0]?.finish_reason;
      }
      return { text, finish };
    });
    const answered = await Promise.all(chats);
    for (const completion of answered) {
      expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
      expect(completion.choices[0]?.finish_reason).toBeTruthy();
    }
    for (const streamed of await Promise.all(streams)) {
      expect(streamed.text.length).toBeGreaterThan(0);
      expect(streamed.finish).toBeTruthy();
    }
  }, 240_000);

  it("takes streams whose clients leave while they wait out of the queue: none reaches the worker", async () => {
    // By request id: the hive logs each relay just after its answer leaves, so a count of lines
    // taken now may miss the last relays of the test before.
    const relayedIds = () => cloud.hiveLog.flatMap((line) => (line.includes("relayed request") ? [/"request_id":"(req_\w+)"/.exec(line)?.[1] ?? ""] : []));
    // Four long answers hold the worker's one slot for 3–10 s (the tiny model runs 1,000–4,000
    // tokens a second here): the streams wait behind them. A stream whose client left is taken out
    // of the queue at its next waiting comment, a second later, so the slot must stay taken for
    // more than that after the streams left; two answers were not always enough on a quiet
    // machine. -100 on the end of a turn: each runs its max_tokens.
    const longAsk = { ...ask, max_tokens: 3000, logit_bias: { "4": -100 } };
    const longs = Array.from({ length: 4 }, () => openai.chat.completions.create(longAsk).withResponse());
    await waitUntil(async () => (await cloud.client.listWorkers()).some((worker) => worker.state === "busy"), 10_000, "a long answer to take the slot");
    const ghosts = Array.from({ length: 8 }, async () => {
      const leaving = new AbortController();
      const response = await fetch(`${cloud.queen.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${cloud.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ ...ask, stream: true }),
        signal: leaving.signal,
      });
      // Its head comes while it waits, with a comment: then the client gives up.
      const reader = response.body?.getReader();
      const first = new TextDecoder().decode((await reader?.read())?.value);
      leaving.abort();
      return { first, requestId: response.headers.get("x-request-id") ?? "" };
    });
    const left = await Promise.all(ghosts);
    expect(left.map((ghost) => ghost.first)).toEqual(Array.from({ length: 8 }, () => WAITING_COMMENT));
    for (const ghost of left) expect(ghost.requestId).toMatch(/^req_\w+$/);
    const served = await Promise.all(longs);
    const last = await openai.chat.completions.create(ask).withResponse();
    // The long answers' and the last request's relays are logged: by then any ghost's would be too.
    const servedIds = [...served, last].map(({ response }) => response.headers.get("x-request-id") ?? "");
    await waitUntil(() => servedIds.every((id) => relayedIds().includes(id)), 10_000, "the long answers' and the last request's relays logged");
    const ghostIds = new Set(left.map((ghost) => ghost.requestId));
    expect(relayedIds().filter((id) => ghostIds.has(id))).toEqual([]);
  }, 90_000);

  it("says where the time went and, to an admin key, which hive served the answer", async () => {
    const { response } = await openai.chat.completions.create(ask).withResponse();
    expect(response.headers.get(SERVER_TIMING_HEADER)).toMatch(/queue;dur=[\d.]+, spawn;dur=[\d.]+, place;dur=[\d.]+, relay;dur=[\d.]+/);
    expect(response.headers.get(SERVED_BY_HIVE_HEADER)).toBe(HIVE_NAME);
  });
});
