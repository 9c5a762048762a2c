// API keys, scopes and usage for real: an admin creates an inference key, the official OpenAI
// client uses it against queen (workerd) → hive → worker, and the usage the queen counted
// matches the usage the worker reported; a stream its client leaves early is charged its prompt
// and the tokens it got.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROMPT_TOKENS_HEADER } from "../../shared/openai/inference-headers.js";
import { type LocalCloud, startLocalCloud, TINY_MODEL, waitUntil } from "./local-cloud.js";

interface UsageRow {
  key_id: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
}

describe("end to end: keys, scopes and usage", () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startLocalCloud({ heartbeatIntervalMs: 1000, hiveName: "keys-hive" });
    const worker = await cloud.client.spawnWorker({ hive: "keys-hive", model: TINY_MODEL, source: cloud.modelSource });
    await cloud.client.waitForWorkerReady(worker.id, 60_000);
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  async function usageOf(keyId: string, requests: number): Promise<UsageRow[]> {
    let rows: UsageRow[] = [];
    await waitUntil(
      async () => {
        rows = ((await (await admin("GET", `/v1/usage?key_id=${keyId}`)).json()) as { data: UsageRow[] }).data;
        return rows[0]?.requests === requests;
      },
      10_000,
      "usage to be recorded",
    );
    return rows;
  }

  async function inferenceKey(name: string): Promise<{ id: string; key: string }> {
    const created = await admin("POST", "/v1/keys", { name, scopes: ["inference"] });
    expect(created.status).toBe(201);
    return (await created.json()) as { id: string; key: string };
  }

  function admin(method: string, path: string, body?: unknown, key = cloud.apiKey): Promise<Response> {
    return fetch(`${cloud.queen.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  it("counts an inference key's requests and the tokens its answers reported", async () => {
    const { id, key } = await inferenceKey("e2e client");
    const openai = new OpenAI({ baseURL: `${cloud.queen.url}/v1`, apiKey: key, maxRetries: 0 });
    const request = { model: TINY_MODEL, messages: [{ role: "user" as const, content: "Hi" }], temperature: 0, max_tokens: 8 };

    const whole = await openai.chat.completions.create(request);
    let streamedUsage: OpenAI.CompletionUsage | null | undefined;
    const stream = await openai.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    for await (const chunk of stream) streamedUsage = chunk.usage ?? streamedUsage;
    expect(streamedUsage?.completion_tokens).toBeGreaterThan(0);

    const expected = {
      requests: 2,
      prompt_tokens: (whole.usage?.prompt_tokens ?? 0) + (streamedUsage?.prompt_tokens ?? 0),
      completion_tokens: (whole.usage?.completion_tokens ?? 0) + (streamedUsage?.completion_tokens ?? 0),
    };
    expect(await usageOf(id, 2)).toEqual([expect.objectContaining({ key_id: id, ...expected })]);

    // The same key may not administer the queen.
    const forbidden = await admin("GET", "/v1/keys", undefined, key);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { code: string } }).error.code).toBe("insufficient_scope");
  });

  it("charges a stream its client leaves after the first token its prompt and the tokens it got", async () => {
    const { id, key } = await inferenceKey("e2e leaver");
    const openai = new OpenAI({ baseURL: `${cloud.queen.url}/v1`, apiKey: key, maxRetries: 0 });
    const request = { model: TINY_MODEL, messages: [{ role: "user" as const, content: "Hi" }], temperature: 0 };
    const whole = await openai.chat.completions.create({ ...request, max_tokens: 1 });
    const promptTokens = whole.usage?.prompt_tokens ?? 0;
    expect(promptTokens).toBeGreaterThan(0);

    // No include_usage, and gone long before the end: the queen never sees a usage chunk.
    const { data: stream, response } = await openai.chat.completions.create({ ...request, max_tokens: 3000, stream: true }).withResponse();
    expect(response.headers.get(PROMPT_TOKENS_HEADER)).toBeNull();
    let texts = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) texts += 1;
      if (texts > 0) break;
    }
    const [row] = await usageOf(id, 2);
    expect(row?.prompt_tokens).toBe(2 * promptTokens);
    // The whole answer's one token, and at least the first piece of the stream's, never all 3,000.
    expect(row?.completion_tokens).toBeGreaterThanOrEqual(2);
    expect(row?.completion_tokens).toBeLessThan(1 + 3000);
  });
});
