// The walking skeleton, for real: the official OpenAI client → queen (workerd) → hive process
// → worker process (llama.cpp, tiny model) and back.
import { type IncomingMessage, request as httpRequest } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import { cancelUntilHeard, isAlive, type LocalCloud, startLocalCloud, TINY_MODEL, waitUntil } from "./local-cloud.js";

// Short enough that the killed-worker test is quick, long enough that a loading worker (whose
// event loop is busy importing node-llama-cpp for a second or two) is not dropped meanwhile.
const HEARTBEAT_INTERVAL_MS = 1000;

describe("end to end: OpenAI client → queen → hive → worker", () => {
  let cloud: LocalCloud;
  let openai: OpenAI;
  let workerPid: number;

  beforeAll(async () => {
    cloud = await startLocalCloud({ heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, hiveName: "e2e-hive" });
    const worker = await cloud.client.spawnWorker({ hive: "e2e-hive", model: TINY_MODEL, source: cloud.modelSource });
    workerPid = worker.pid;
    await cloud.client.waitForWorkerReady(worker.id, 60_000);
    openai = new OpenAI({ baseURL: `${cloud.queen.url}/v1`, apiKey: cloud.apiKey, maxRetries: 0 });
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  const greedy = {
    model: TINY_MODEL,
    messages: [
      { role: "system" as const, content: "Be brief." },
      { role: "user" as const, content: "Say something." },
    ],
    temperature: 0,
    max_tokens: 40,
  };

  it("lists rbee-tiny in /v1/models", async () => {
    const models = await openai.models.list();
    expect(models.data.map((model) => model.id)).toContain(TINY_MODEL);
  });

  it("answers a non-streaming chat with text and usage, sent with its length", async () => {
    const { data: completion, response } = await openai.chat.completions.create(greedy).withResponse();
    // A short answer comes back whole from its hive, and goes out with its length rather than in chunks.
    expect(Number(response.headers.get("content-length"))).toBeGreaterThan(0);
    expect(response.headers.get("transfer-encoding")).toBeNull();
    const choice = completion.choices[0];
    expect(choice?.message.role).toBe("assistant");
    expect(choice?.message.content?.length).toBeGreaterThan(0);
    expect(choice?.finish_reason).toBe("length");
    expect(completion.model).toBe(TINY_MODEL);
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage?.total_tokens).toBe((completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0));
  });

  it("answers relayed requests with a status line that names its reason, as the queen's own answers do", async () => {
    for (const stream of [false, true]) {
      const { statusCode, statusMessage } = await new Promise<IncomingMessage>((resolve, reject) => {
        const outgoing = httpRequest(`${cloud.queen.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${cloud.apiKey}`, "content-type": "application/json" } }, (response) => {
          response.resume();
          response.on("end", () => resolve(response));
        });
        outgoing.on("error", reject);
        outgoing.end(JSON.stringify({ ...greedy, max_tokens: 4, stream }));
      });
      expect([statusCode, statusMessage], `stream: ${stream}`).toEqual([200, "OK"]);
    }
  });

  it("streams exactly the text the same greedy request returns without streaming", async () => {
    const whole = await openai.chat.completions.create(greedy);
    const stream = await openai.chat.completions.create({ ...greedy, stream: true, stream_options: { include_usage: true } });
    let streamed = "";
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      chunks += 1;
      streamed += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(streamed).toBe(whole.choices[0]?.message.content);
    expect(usage?.completion_tokens).toBe(whole.usage?.completion_tokens);
  });

  it("cancels the generation down to the worker when the client goes away", async () => {
    const leaveEarly = async () => {
      const controller = new AbortController();
      const stream = await openai.chat.completions.create(
        // As long a generation as the context allows, so it is still running when the cancel lands.
        { ...greedy, max_tokens: 4000, stream: true },
        { signal: controller.signal },
      );
      // Read for a moment before leaving: a disconnect in the first milliseconds of a response was
      // seen to get lost under CPU load.
      let received = 0;
      let firstAt: number | undefined;
      for await (const chunk of stream) {
        received += chunk.choices[0]?.delta.content?.length ?? 0;
        firstAt ??= received > 0 ? Date.now() : undefined;
        if (firstAt !== undefined && Date.now() - firstAt > 300) break; // leaving the loop aborts the HTTP request
      }
    };
    await cancelUntilHeard(cloud, leaveEarly);
    // The slot is free again: the next request is answered.
    const next = await openai.chat.completions.create({ ...greedy, max_tokens: 5 });
    expect(next.choices[0]?.finish_reason).toBe("length");
    // Up to three long generations when a hang-up goes unheard (cancelUntilHeard).
  }, 300_000);

  it("relays legacy completions through the queen", async () => {
    const completion = await openai.completions.create({ model: TINY_MODEL, prompt: "Once upon a time", max_tokens: 12, temperature: 0 });
    expect(completion.object).toBe("text_completion");
    expect(completion.choices[0]?.text.length).toBeGreaterThan(0);
    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it("fills in the middle through the queen for the SDK's suffix, and refuses one for a model that cannot, naming suffix", async () => {
    const refused = await openai.completions.create({ model: TINY_MODEL, prompt: "def f():", suffix: "    return x", max_tokens: 8 }).catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused).toMatchObject({ code: "infill_not_supported", param: "suffix" });

    const fimPath = join(cloud.dir, "rbee-tiny-fim.gguf");
    await writeTinyLlamaGguf(fimPath, { fillInTheMiddle: true });
    const worker = await cloud.client.spawnWorker({ hive: "e2e-hive", model: "rbee-tiny-fim", source: pathToFileURL(fimPath).href });
    await cloud.client.waitForWorkerReady(worker.id, 60_000);
    const completion = await openai.completions.create({ model: "rbee-tiny-fim", prompt: "def f():", suffix: "    return x", max_tokens: 8, temperature: 0 });
    expect(completion.choices[0]?.text).toHaveLength(8);
    // BOS, three FIM tokens, 8 + 12 characters.
    expect(completion.usage?.prompt_tokens).toBe(24);
  });

  it("relays embeddings through the queen, in the SDK's default base64 encoding", async () => {
    const embeddings = await openai.embeddings.create({ model: TINY_MODEL, input: ["first", "second"] });
    expect(embeddings.data.map((item) => item.index)).toEqual([0, 1]);
    expect(embeddings.data[0]?.embedding).toHaveLength(64);
    expect(embeddings.data[0]?.embedding.every(Number.isFinite)).toBe(true);
  });

  it("returns JSON matching the requested schema, even from a random model", async () => {
    const completion = await openai.chat.completions.create({
      ...greedy,
      max_tokens: 400,
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "pet",
          schema: {
            type: "object",
            // maxLength: a random model never closes a string of its own accord.
            properties: { name: { type: "string", maxLength: 16 }, legs: { type: "integer" }, kind: { enum: ["cat", "dog"] } },
            required: ["name", "legs", "kind"],
            additionalProperties: false,
          },
        },
      },
    });
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    const pet = JSON.parse(completion.choices[0]?.message.content ?? "") as Record<string, unknown>;
    expect(Object.keys(pet).sort()).toEqual(["kind", "legs", "name"]);
    expect(typeof pet.name).toBe("string");
    expect(Number.isInteger(pet.legs)).toBe(true);
    expect(["cat", "dog"]).toContain(pet.kind);
  });

  it("refuses a wrong API key with 401", async () => {
    const stranger = new OpenAI({ baseURL: `${cloud.queen.url}/v1`, apiKey: "wrong", maxRetries: 0 });
    const error = await stranger.models.list().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
  });

  it("answers an unknown model with 404 model_not_found", async () => {
    const error = await openai.chat.completions.create({ ...greedy, model: "no-such-model" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");
  });

  it("stops routing to a killed worker, and starts a new one from the hive's catalog for the next request", async () => {
    const killed = (await cloud.client.listWorkers()).find((worker) => worker.model === TINY_MODEL);
    process.kill(workerPid, "SIGKILL");
    await waitUntil(() => !isAlive(workerPid), 5000, "the worker to die");
    // Its hive tells the queen it exited (three missed heartbeats would do too).
    await waitUntil(async () => !(await cloud.client.listWorkers()).some((worker) => worker.id === killed?.id), 10 * HEARTBEAT_INTERVAL_MS, "the dead worker to be dropped");
    // The model is in the hive's catalog (the spawn downloaded it): the queen starts a worker for it.
    const completion = await openai.chat.completions.create({ ...greedy, max_tokens: 5 }, { timeout: 60_000 });
    expect(completion.choices[0]?.finish_reason).toBe("length");
    const serving = (await cloud.client.listWorkers()).filter((worker) => worker.model === TINY_MODEL);
    expect(serving).toHaveLength(1);
    expect(serving[0]?.id).not.toBe(killed?.id);
  }, 90_000);
});
