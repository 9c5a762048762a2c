// The relay under a worker that batches, for real: queen in workerd, a hive process, one worker of
// the tiny model with many slots. Answers generate together, so each message of the hive carries
// the text of many streams (its FlushTick sends all their waiting text as one) and the queen takes
// them apart again. Each answer is forced by a grammar (test/support/forced-answers.ts): its text
// is known whatever the batch does, so every answer is checked exactly, piece by piece: none lost,
// none repeated, none out of order, none another answer's.
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming } from "openai/resources/chat/completions";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forcedAnswer } from "../support/forced-answers.js";
import { type LocalCloud, openAiClient, startLocalCloud, TINY_MODEL } from "./local-cloud.js";

const HIVE = "interleaved-hive";
/** The worker's slots, and the answers asked at once. */
const SLOTS = 16;
/** Tokens of each answer, its quotes included. */
const TOKENS = 100;

describe("relay of answers one worker generates together", () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startLocalCloud({ heartbeatIntervalMs: 1000, hiveName: HIVE, workerParallel: SLOTS });
    const worker = await cloud.client.spawnWorker({ hive: HIVE, model: TINY_MODEL, source: cloud.modelSource });
    await cloud.client.waitForWorkerReady(worker.id, 60_000);
  }, 120_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  it(`streams ${SLOTS} answers at once from the worker's ${SLOTS} slots, each exactly its own text, piece by piece, with its usage`, async () => {
    const client = openAiClient(cloud);
    const answers = Array.from({ length: SLOTS }, (_, index) => forcedAnswer(TINY_MODEL, 1, index, TOKENS));
    const streamed = await Promise.all(
      answers.map(async ({ body }) => {
        const stream = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } } as unknown as ChatCompletionCreateParamsStreaming);
        const pieces: string[] = [];
        const arrivals: number[] = [];
        let tokens: number | undefined;
        for await (const chunk of stream) {
          const content = chunk.choices[0]?.delta.content;
          if (content) {
            pieces.push(content);
            arrivals.push(performance.now());
          }
          if (chunk.usage) tokens = chunk.usage.completion_tokens;
        }
        return { pieces, tokens, first: arrivals[0] ?? Number.NaN, last: arrivals.at(-1) ?? Number.NaN };
      }),
    );
    for (const [index, answer] of answers.entries()) {
      expect({ pieces: streamed[index]?.pieces, tokens: streamed[index]?.tokens }, `stream ${index}`).toEqual({ pieces: answer.pieces, tokens: answer.pieces.length });
    }
    // Generated together, not one after another: every stream had begun before any had ended.
    expect(Math.max(...streamed.map((s) => s.first))).toBeLessThan(Math.min(...streamed.map((s) => s.last)));
  }, 60_000);

  it(`answers ${SLOTS} whole answers at once, each exactly its own text with its usage`, async () => {
    const client = openAiClient(cloud);
    const answers = Array.from({ length: SLOTS }, (_, index) => forcedAnswer(TINY_MODEL, 2, index, TOKENS));
    const whole = await Promise.all(answers.map(({ body }) => client.chat.completions.create(body as unknown as ChatCompletionCreateParamsNonStreaming)));
    for (const [index, answer] of answers.entries()) {
      const completion = whole[index];
      expect({ content: completion?.choices[0]?.message.content, finish: completion?.choices[0]?.finish_reason, tokens: completion?.usage?.completion_tokens }, `answer ${index}`).toEqual({
        content: answer.pieces.join(""),
        finish: "stop",
        tokens: answer.pieces.length,
      });
    }
  }, 60_000);
});
