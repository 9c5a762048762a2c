import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PROMPT_TOKENS_HEADER } from "../../shared/openai/inference-headers.js";
import { call, chat, createKey, expectParameterRefusals, type UsageRow, usageRows } from "./admin-api.js";
import { eventually, schedulingOf } from "./hive-socket.js";
import { hiveServing } from "./job-client.js";

const today = () => new Date().toISOString().slice(0, 10);


describe("usage per key per day", () => {
  it("counts a non-streaming request and the tokens of the worker's usage, keeping status and headers", async () => {
    const hive = await hiveServing("usage-json-hive", "usage-json-model");
    const { id, key } = await createKey(["inference"]);
    const responsePromise = chat(key, "usage-json-model");
    const request = await hive.next("request");
    const body = JSON.stringify({ object: "chat.completion", choices: [], usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } });
    hive.send({ type: "response_head", requestId: request.requestId, status: 200, headers: { "content-type": "application/json", "cache-control": "no-store" } });
    hive.send({ type: "response_chunk", requestId: request.requestId, seq: 0, data: body.slice(0, 20) });
    hive.send({ type: "response_chunk", requestId: request.requestId, seq: 1, data: body.slice(20) });
    hive.send({ type: "response_end", requestId: request.requestId, chunks: 2 });
    const response = await responsePromise;
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.text()).toBe(body);
    await eventually(async () => (await usageRows(`key_id=${id}`)).length === 1);
    expect(await usageRows(`key_id=${id}`)).toEqual([{ key_id: id, key_name: "test inference", day: today(), requests: 1, prompt_tokens: 11, completion_tokens: 7 }]);
  });

  it("reads a non-streaming answer that came back whole at once: its lease is free before the client reads it, its usage counted", async () => {
    const hive = await hiveServing("usage-whole-hive", "usage-whole-model");
    const { id, key } = await createKey(["inference"]);
    const responsePromise = chat(key, "usage-whole-model");
    const request = await hive.next("request");
    const body = JSON.stringify({ object: "chat.completion", choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } });
    // Head, body and end in one message, as a hive sends a short answer: the HiveSession hands it back as text.
    hive.send({
      type: "batch",
      frames: [
        { type: "response_head", requestId: request.requestId, status: 200, headers: { "content-type": "application/json" } },
        { type: "response_chunk", requestId: request.requestId, seq: 0, data: body },
        { type: "response_end", requestId: request.requestId, chunks: 1 },
      ],
    });
    const response = await responsePromise;
    expect(response.status).toBe(200);
    // Nothing of the body read yet: nothing of it is left to come from the worker either.
    await eventually(async () => (await schedulingOf(request.workerId))?.leases === 0);
    expect(await response.text()).toBe(body);
    await eventually(async () => (await usageRows(`key_id=${id}`)).length === 1);
    expect(await usageRows(`key_id=${id}`)).toEqual([{ key_id: id, key_name: "test inference", day: today(), requests: 1, prompt_tokens: 5, completion_tokens: 3 }]);
  });

  it("counts the tokens of a stream's usage chunk as it passes, when the client asked for include_usage", async () => {
    const hive = await hiveServing("usage-sse-hive", "usage-sse-model");
    const { id, key } = await createKey(["inference"]);
    const responsePromise = chat(key, "usage-sse-model", { stream: true, stream_options: { include_usage: true } });
    const request = await hive.next("request");
    const { requestId } = request;
    hive.send({ type: "response_head", requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    const events = [
      'data: {"choices":[{"delta":{"content":"a"}}]}\n\n',
      'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}\n\n',
      "data: [DONE]\n\n",
    ];
    // The usage event split across two frames: the queen must still see it whole.
    hive.send({ type: "response_chunk", requestId, seq: 0, data: events[0] });
    hive.send({ type: "response_chunk", requestId, seq: 1, data: events[1]?.slice(0, 30) });
    hive.send({ type: "response_chunk", requestId, seq: 2, data: `${events[1]?.slice(30)}${events[2]}` });
    hive.send({ type: "response_end", requestId, chunks: 3 });
    expect(await (await responsePromise).text()).toBe(events.join(""));
    await eventually(async () => (await usageRows(`key_id=${id}`)).length === 1);
    expect(await usageRows(`key_id=${id}`)).toEqual([{ key_id: id, key_name: "test inference", day: today(), requests: 1, prompt_tokens: 5, completion_tokens: 3 }]);
  });

  it("counts a stream's tokens when the client did not ask for include_usage: the worker is asked, the client gets no usage chunk", async () => {
    const hive = await hiveServing("usage-unasked-hive", "usage-unasked-model");
    const { id, key } = await createKey(["inference"]);
    const responsePromise = chat(key, "usage-unasked-model", { stream: true });
    const request = await hive.next("request");
    const { requestId } = request;
    expect(JSON.parse(request.body)).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    hive.send({ type: "response_head", requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    const token = 'data: {"choices":[{"delta":{"content":"a"}}]}\n\n';
    const finish = 'data: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\n';
    const usage = 'data: {"choices":[],"usage":{"prompt_tokens":6,"completion_tokens":2,"total_tokens":8}}\n\n';
    const done = "data: [DONE]\n\n";
    // The token split across frames, and the usage chunk in the same frame as the finish and [DONE].
    hive.send({ type: "response_chunk", requestId, seq: 0, data: token.slice(0, 12) });
    hive.send({ type: "response_chunk", requestId, seq: 1, data: token.slice(12) });
    hive.send({ type: "response_chunk", requestId, seq: 2, data: `${finish}${usage}${done}` });
    hive.send({ type: "response_end", requestId, chunks: 3 });
    expect(await (await responsePromise).text()).toBe(`${token}${finish}${done}`);
    await eventually(async () => (await usageRows(`key_id=${id}`)).length === 1);
    expect(await usageRows(`key_id=${id}`)).toEqual([{ key_id: id, key_name: "test inference", day: today(), requests: 1, prompt_tokens: 6, completion_tokens: 2 }]);
  });

  it("charges a stream its client leaves before the usage chunk the prompt tokens its head named, and keeps that header from the client", async () => {
    const hive = await hiveServing("usage-cut-hive", "usage-cut-model");
    const { id, key } = await createKey(["inference"]);
    const responsePromise = chat(key, "usage-cut-model", { stream: true });
    const { requestId } = await hive.next("request");
    const headers = { "content-type": "text/event-stream", [PROMPT_TOKENS_HEADER]: "41" };
    hive.send({ type: "response_head", requestId, status: 200, headers });
    const token = (text: string) => `data: {"choices":[{"index":0,"delta":{"content":"${text}"}}]}\n\n`;
    hive.send({ type: "response_chunk", requestId, seq: 0, data: `${token("a")}${token("b")}` });
    const response = await responsePromise;
    expect(response.headers.get(PROMPT_TOKENS_HEADER)).toBeNull();
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe(`${token("a")}${token("b")}`);
    await reader.cancel();
    expect((await hive.next("cancel")).requestId).toBe(requestId);
    await eventually(async () => (await usageRows(`key_id=${id}`)).length === 1);
    expect(await usageRows(`key_id=${id}`)).toEqual([{ key_id: id, key_name: "test inference", day: today(), requests: 1, prompt_tokens: 41, completion_tokens: 2 }]);
  });

  it("counts an Anthropic stream by the chat stream it was translated from, and a Responses stream its client left by the pieces it got", async () => {
    const hive = await hiveServing("usage-dialect-hive", "usage-dialect-model");
    const chunk = (text: string) => `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"${text}"},"finish_reason":null}]}\n\n`;
    const finish = 'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n';
    const usage = 'data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}\n\n';

    const anthropic = await createKey(["inference"]);
    const messages = call("POST", "/v1/messages", {
      key: anthropic.key,
      body: { model: "usage-dialect-model", max_tokens: 8, stream: true, messages: [{ role: "user", content: "hi" }] },
    });
    const asked = await hive.next("request");
    expect(JSON.parse(asked.body)).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    hive.respond(asked.requestId, 200, `${chunk("a")}${chunk("b")}${finish}${usage}data: [DONE]\n\n`, "text/event-stream");
    const translated = await (await messages).text();
    expect(translated).toContain("event: message_stop");
    expect(translated).toContain('"output_tokens":2');
    await eventually(async () => (await usageRows(`key_id=${anthropic.id}`)).length === 1);
    expect(await usageRows(`key_id=${anthropic.id}`)).toEqual([{ key_id: anthropic.id, key_name: "test inference", day: today(), requests: 1, prompt_tokens: 7, completion_tokens: 2 }]);

    const responses = await createKey(["inference"]);
    const streamed = call("POST", "/v1/responses", { key: responses.key, body: { model: "usage-dialect-model", input: "hi", stream: true } });
    const { requestId } = await hive.next("request");
    hive.send({ type: "response_head", requestId, status: 200, headers: { "content-type": "text/event-stream", [PROMPT_TOKENS_HEADER]: "12" } });
    hive.send({ type: "response_chunk", requestId, seq: 0, data: `${chunk("x")}${chunk("y")}${chunk("z")}` });
    const reader = ((await streamed).body as ReadableStream<Uint8Array>).getReader();
    let read = "";
    while (!read.includes("response.output_text.delta")) read += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect((await hive.next("cancel")).requestId).toBe(requestId);
    await eventually(async () => (await usageRows(`key_id=${responses.id}`)).length === 1);
    expect(await usageRows(`key_id=${responses.id}`)).toEqual([{ key_id: responses.id, key_name: "test inference", day: today(), requests: 1, prompt_tokens: 12, completion_tokens: 3 }]);
  });

  it("adds requests up in one row per key per day, failed requests included", async () => {
    const { id, key } = await createKey(["inference"]);
    for (let i = 0; i < 3; i++) expect((await chat(key, "no-such-usage-model")).status).toBe(404);
    await eventually(async () => (await usageRows(`key_id=${id}`))[0]?.requests === 3);
    expect(await usageRows(`key_id=${id}&from=${today()}&to=${today()}`)).toEqual([
      { key_id: id, key_name: "test inference", day: today(), requests: 3, prompt_tokens: 0, completion_tokens: 0 },
    ]);
    expect(await usageRows(`key_id=${id}&to=2000-01-01`)).toEqual([]);
  });

  it("counts the bootstrap admin key under the id 'admin'", async () => {
    const before = (await usageRows(`key_id=admin&from=${today()}`))[0]?.requests ?? 0;
    await call("POST", "/v1/embeddings", { body: { model: "no-such-usage-model", input: "hi" } });
    await eventually(async () => ((await usageRows(`key_id=admin&from=${today()}`))[0]?.requests ?? 0) > before);
    expect((await usageRows(`key_id=admin&from=${today()}`))[0]?.key_name, "named for people, though it has no row among the keys").toBe("admin key (RBEE_ADMIN_KEY)");
  });

  it("pages through usage oldest day first, each row once, following next_after", async () => {
    const statements = [];
    for (const day of ["2001-01-01", "2001-01-02", "2001-01-03"]) {
      for (const keyId of ["key_pagea", "key_pageb"]) {
        statements.push(env.DB.prepare("INSERT INTO usage_daily (key_id, day, requests) VALUES (?, ?, 1)").bind(keyId, day));
      }
    }
    await env.DB.batch(statements);
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const response = await call("GET", `/v1/usage?to=2001-12-31&limit=4${after === null ? "" : `&after=${after}`}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { data: UsageRow[]; has_more: boolean; next_after: string | null };
      expect(page.data.length).toBeLessThanOrEqual(4);
      seen.push(...page.data.map((row) => `${row.day} ${row.key_id}`));
      after = page.next_after;
    } while (after !== null);
    expect(seen).toEqual([
      "2001-01-01 key_pagea",
      "2001-01-01 key_pageb",
      "2001-01-02 key_pagea",
      "2001-01-02 key_pageb",
      "2001-01-03 key_pagea",
      "2001-01-03 key_pageb",
    ]);
    const last = (await (await call("GET", "/v1/usage?to=2001-12-31&limit=6")).json()) as { has_more: boolean; next_after: string | null };
    expect(last).toMatchObject({ has_more: false, next_after: null });
  });

  it("refuses usage queries with a bad key id or day, naming the parameter", async () => {
    await expectParameterRefusals("/v1/usage", [
      ["key_id=../etc", "key_id"],
      ["from=yesterday", "from"],
      ["to=2026-02-30", "to"],
      ["limit=10001", "limit"],
      ["after=yesterday", "after"],
    ]);
  });
});
