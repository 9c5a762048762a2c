// Failover after the first token (queen/streams/spliced-stream.ts), run inside workerd: scripted
// worker streams break in each way a relay breaks, and the client's stream is read whole.
import { describe, expect, it } from "vitest";
import { failoverStream, type FailoverStreamOptions } from "../../queen/streams/spliced-stream.js";
import { readClientStream, relayErrorEvent, type ScriptedStream, scriptedStream, workerEvents } from "../support/sse-streams.js";

const CHAT = "/v1/chat/completions";
const chatRequest = {
  model: "tiny",
  messages: [{ role: "user", content: "Say hello." }],
  stream: true,
  stream_options: { include_usage: true },
  max_tokens: 50,
  temperature: 0.3,
  seed: 7,
};

/** failoverStream over `first`, with continuations served from `next` in order (none left: undefined). */
function splice(first: ScriptedStream, next: ScriptedStream[], options: Partial<FailoverStreamOptions> = {}) {
  const bodies: unknown[] = [];
  const lost: Array<{ attempt: number; code: string }> = [];
  const response = failoverStream({
    request: chatRequest,
    path: CHAT,
    first: first.response,
    retry: async (body) => {
      bodies.push(JSON.parse(body));
      return next.shift()?.response;
    },
    onWorkerLost: (attempt, cause) => lost.push({ attempt, code: cause.code }),
    ...options,
  });
  return { response, bodies, lost };
}

describe("continuing a stream after the first token", () => {
  it("continues a chat stream broken after three chunks on another worker: whole text, one id, summed usage, one [DONE]", async () => {
    const a = workerEvents("chatcmpl-a", "chat", 1_700_000_001, "tiny");
    const b = workerEvents("chatcmpl-b", "chat", 1_700_000_999, "tiny-on-b");
    const first = scriptedStream([a.role, a.text("Hel"), a.text("lo"), a.text(" wor"), relayErrorEvent("worker_disconnected")]);
    const second = scriptedStream([b.role, b.text("ld"), b.text("!"), b.finish("stop"), b.usage(13, 2), b.done]);
    const { response, bodies, lost } = splice(first, [second]);

    const read = await readClientStream(response);
    expect(read.text).toBe("Hello world!");
    expect(new Set(read.chunks.map((chunk) => `${chunk.id} ${chunk.created} ${chunk.model}`))).toEqual(new Set(["chatcmpl-a 1700000001 tiny"]));
    expect(read.chunks.filter((chunk) => chunk.choices?.some((choice) => choice.delta?.role))).toHaveLength(1);
    expect(read.chunks.at(-1)?.usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    expect(read.data.filter((data) => data === "[DONE]")).toHaveLength(1);
    expect(read.data.at(-1)).toBe("[DONE]");
    expect(read.data.some((data) => data.includes('"error"'))).toBe(false);
    expect(lost).toEqual([{ attempt: 0, code: "worker_disconnected" }]);
    expect(bodies).toEqual([
      {
        ...chatRequest,
        messages: [...chatRequest.messages, { role: "assistant", content: "Hello wor" }],
        max_tokens: 47,
      },
    ]);
  });

  it("keeps a continuation's cached prompt tokens within the prompt, once the answer so far counts as completion", async () => {
    const a = workerEvents("chatcmpl-a", "chat", 1_700_000_001, "tiny");
    const b = workerEvents("chatcmpl-b", "chat", 1_700_000_999, "tiny");
    const first = scriptedStream([a.role, a.text("Hel"), a.text("lo"), a.text(" wor"), relayErrorEvent("worker_disconnected")]);
    // The continuing worker's slot held the whole prompt, the answer so far included.
    const second = scriptedStream([b.role, b.text("ld"), b.finish("stop"), b.usage(13, 1, 12), b.done]);
    const read = await readClientStream(splice(first, [second]).response);
    expect(read.chunks.at(-1)?.usage).toEqual({ prompt_tokens: 10, completion_tokens: 4, total_tokens: 14, prompt_tokens_details: { cached_tokens: 10, audio_tokens: 0 } });
  });

  it("continues a legacy completion from the prompt plus the text so far, when the body itself fails", async () => {
    const a = workerEvents("cmpl-a", "completion");
    const b = workerEvents("cmpl-b", "completion");
    const first = scriptedStream([a.text("one"), a.text(" two")], "fail");
    const second = scriptedStream([b.text(" three"), b.finish("length"), b.done]);
    const bodies: unknown[] = [];
    const response = failoverStream({
      request: { model: "tiny", prompt: ["Count:"], stream: true },
      path: "/v1/completions",
      first: first.response,
      retry: async (body) => {
        bodies.push(JSON.parse(body));
        return second.response;
      },
    });
    const read = await readClientStream(response);
    expect(read.text).toBe("one two three");
    expect(read.chunks.every((chunk) => chunk.id === "cmpl-a")).toBe(true);
    // No max_tokens: the worker's default of 16 holds for the whole answer, not per worker.
    // The text so far is marked as the answer's, for the worker to read as plain text.
    expect(bodies).toEqual([{ model: "tiny", prompt: "Count:one two", stream: true, max_tokens: 14, rbee_answer_chars: 7 }]);
  });

  it("marks the whole answer so far on each continuation of a legacy completion, after the client's own mark", async () => {
    const [a, b, c] = ["cmpl-a", "cmpl-b", "cmpl-c"].map((id) => workerEvents(id, "completion"));
    const streams = [scriptedStream([b!.text(" three")], "fail"), scriptedStream([c!.text(" four"), c!.finish("length"), c!.done])];
    const bodies: unknown[] = [];
    const response = failoverStream({
      // The client's prompt ends with text it marks as an answer already (" one").
      request: { model: "tiny", prompt: "Count: one", stream: true, max_tokens: 10, rbee_answer_chars: 4 },
      path: "/v1/completions",
      first: scriptedStream([a!.text(" two")], "fail").response,
      retry: async (body) => {
        bodies.push(JSON.parse(body));
        return streams.shift()?.response;
      },
    });
    expect((await readClientStream(response)).text).toBe(" two three four");
    expect(bodies).toEqual([
      { model: "tiny", prompt: "Count: one two", stream: true, max_tokens: 9, rbee_answer_chars: 8 },
      { model: "tiny", prompt: "Count: one two three", stream: true, max_tokens: 8, rbee_answer_chars: 14 },
    ]);
  });

  it("continues a stream that stops short with no error at all, and one whose worker goes silent", async () => {
    const a = workerEvents("chatcmpl-a");
    const b = workerEvents("chatcmpl-b");
    const stopsShort = splice(scriptedStream([a.role, a.text("Hi")]), [scriptedStream([b.role, b.text(" there"), b.finish(), b.done])]);
    expect((await readClientStream(stopsShort.response)).text).toBe("Hi there");
    expect(stopsShort.lost).toEqual([{ attempt: 0, code: "response_incomplete" }]);

    const silent = scriptedStream([a.role, a.text("Hi")], "hang");
    const goesSilent = splice(silent, [scriptedStream([b.role, b.text(" there"), b.finish(), b.done])], { stallTimeoutMs: 50 });
    expect((await readClientStream(goesSilent.response)).text).toBe("Hi there");
    expect(goesSilent.lost).toEqual([{ attempt: 0, code: "worker_stalled" }]);
    await silent.cancelled; // the silent worker's stream was given up, so the hive stops it
  });

  it("does not take a client that reads slowly for a silent worker: only a read left waiting counts", async () => {
    const a = workerEvents("chatcmpl-a");
    const { response, lost } = splice(scriptedStream([a.role, a.text("Hi"), a.text(" there"), a.finish(), a.done]), [], { stallTimeoutMs: 50 });
    const reader = response.body?.getReader();
    const decoder = new TextDecoder();
    let text = "";
    for (;;) {
      const read = await reader?.read();
      if (!read || read.done) break;
      text += decoder.decode(read.value);
      await new Promise((resolve) => setTimeout(resolve, 120)); // over twice the stall timeout between reads
    }
    expect(text).toContain('"content":" there"');
    expect(text).toContain("[DONE]");
    expect(lost).toEqual([]);
  });

  it("drops an event the break cut in half, with the relay's error glued to it, and continues after the last whole one", async () => {
    const a = workerEvents("chatcmpl-a");
    const b = workerEvents("chatcmpl-b");
    const cut = a.text(" world").slice(0, 30);
    const { response, bodies } = splice(scriptedStream([a.role, a.text("Hello"), cut + relayErrorEvent("response_incomplete")]), [
      scriptedStream([b.role, b.text(" world"), b.finish(), b.done]),
    ]);
    const read = await readClientStream(response);
    expect(read.text).toBe("Hello world");
    expect(read.data.at(-1)).toBe("[DONE]");
    expect((bodies[0] as { messages: unknown[] }).messages.at(-1)).toEqual({ role: "assistant", content: "Hello" });
  });

  it("sends the text that came before a break to the client before asking another worker", async () => {
    const a = workerEvents("chatcmpl-a");
    const b = workerEvents("chatcmpl-b");
    let clientHas: () => void = () => {};
    const clientHasHello = new Promise<void>((resolve) => (clientHas = resolve));
    const response = failoverStream({
      request: chatRequest,
      path: CHAT,
      // One read holds the text and the break: the text must not wait for the continuation.
      first: scriptedStream([a.role + a.text("Hello") + relayErrorEvent("worker_disconnected")]).response,
      retry: async () => {
        await clientHasHello;
        return scriptedStream([b.role, b.text("!"), b.finish(), b.done]).response;
      },
    });
    const reader = response.body?.getReader();
    let text = "";
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
      text += new TextDecoder().decode(chunk.value);
      if (text.includes("Hello")) clientHas();
    }
    expect(text).toContain('"content":"!"');
  });

  it("appends to the client's own assistant prefill rather than adding a second assistant message", async () => {
    const a = workerEvents("chatcmpl-a");
    const b = workerEvents("chatcmpl-b");
    const request = { ...chatRequest, messages: [...chatRequest.messages, { role: "assistant", content: "Well," }], max_tokens: undefined, max_completion_tokens: 20 };
    const bodies: Array<{ messages: unknown; max_completion_tokens: unknown }> = [];
    const response = failoverStream({
      request,
      path: CHAT,
      first: scriptedStream([a.role, a.text(" hello"), relayErrorEvent("hive_disconnected")]).response,
      retry: async (body) => {
        bodies.push(JSON.parse(body));
        return scriptedStream([b.role, b.text(" there"), b.finish(), b.done]).response;
      },
    });
    expect((await readClientStream(response)).text).toBe(" hello there");
    expect(bodies[0]?.messages).toEqual([...chatRequest.messages, { role: "assistant", content: "Well, hello" }]);
    expect(bodies[0]?.max_completion_tokens).toBe(19);
  });

  it("ends with a worker_lost error event, and no [DONE], when no other worker can be had", async () => {
    const a = workerEvents("chatcmpl-a");
    const { response } = splice(scriptedStream([a.role, a.text("Hel"), relayErrorEvent("worker_disconnected")]), []);
    const read = await readClientStream(response);
    expect(read.text).toBe("Hel");
    expect(read.data).not.toContain("[DONE]");
    const last = read.chunks.at(-1) as { error?: { code?: string; type?: string; message?: string } };
    expect(last.error?.code).toBe("worker_lost");
    expect(last.error?.type).toBe("server_error");
    expect(last.error?.message).toContain("worker_disconnected");
  });

  it("does not continue a stream that offers tools: a call cut off mid-arguments cannot go on as text", async () => {
    const a = workerEvents("chatcmpl-a");
    const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} } } }];
    const second = scriptedStream([a.text("never"), a.done]);
    const { response, bodies } = splice(scriptedStream([a.role, a.text("Hel"), relayErrorEvent("worker_disconnected")]), [second], {
      request: { ...chatRequest, tools },
    });
    const read = await readClientStream(response);
    expect(bodies).toEqual([]);
    expect(read.text).toBe("Hel");
    expect(read.data).not.toContain("[DONE]");
  });

  it("gives up after maxContinuations continuations that break too", async () => {
    const a = workerEvents("chatcmpl-a");
    const b = workerEvents("chatcmpl-b");
    const c = workerEvents("chatcmpl-c");
    const { response, bodies, lost } = splice(scriptedStream([a.role, a.text("1")], "fail"), [
      scriptedStream([b.role, b.text("2"), relayErrorEvent("hive_disconnected")]),
      scriptedStream([c.role, c.text("3")], "fail"),
      scriptedStream([c.role, c.text("never"), c.finish(), c.done]),
    ]);
    const read = await readClientStream(response);
    expect(read.text).toBe("123");
    expect(bodies).toHaveLength(2);
    expect((bodies[1] as { messages: unknown[] }).messages.at(-1)).toEqual({ role: "assistant", content: "12" });
    expect(lost.map((entry) => entry.attempt)).toEqual([0, 1, 2]);
    expect((read.chunks.at(-1) as { error?: { code?: string } }).error?.code).toBe("worker_lost");
  });

  it("tries the next worker when a continuation is refused, within the same limit", async () => {
    const a = workerEvents("chatcmpl-a");
    const c = workerEvents("chatcmpl-c");
    const refused = { response: new Response(JSON.stringify({ error: { message: "busy", type: "server_error", param: null, code: "worker_busy" } }), { status: 503 }), cancelled: Promise.resolve() };
    const { response, lost } = splice(scriptedStream([a.role, a.text("a")], "fail"), [refused, scriptedStream([c.role, c.text("b"), c.finish(), c.done])]);
    expect((await readClientStream(response)).text).toBe("ab");
    // A body that fails is the stream from the queen's relaying object breaking: lost on the way.
    expect(lost).toEqual([
      { attempt: 0, code: "relay_lost" },
      { attempt: 1, code: "worker_busy" },
    ]);
  });

  it("passes the worker's own error event on without retrying: it is about the request, not a lost worker", async () => {
    const a = workerEvents("chatcmpl-a");
    const own = `data: ${JSON.stringify({ error: { message: "The context broke", type: "server_error", param: null, code: "generation_failed" } })}\n\n`;
    const { response, bodies } = splice(scriptedStream([a.role, a.text("x"), own]), []);
    const read = await readClientStream(response);
    expect(bodies).toEqual([]);
    expect((read.chunks.at(-1) as { error?: { code?: string } }).error?.code).toBe("generation_failed");
  });

  it("rewords the worker's own error event for rewordError, split across reads and with CRLF line ends, keeping the rest", async () => {
    const a = workerEvents("chatcmpl-a");
    const own = `data: ${JSON.stringify({ error: { message: "port 43123 refused", type: "server_error", param: null, code: "generation_failed" } })}\r\n\r\n`;
    const half = own.indexOf("port");
    const reworded: string[] = [];
    const { response, bodies } = splice(scriptedStream([a.role, a.text("x"), own.slice(0, half), own.slice(half)]), [], {
      rewordError: (body) => {
        reworded.push(body.error.message);
        return { error: { ...body.error, message: "reworded" } };
      },
    });
    const read = await readClientStream(response);
    expect(read.text).toBe("x");
    expect(bodies).toEqual([]);
    expect(reworded).toEqual(["port 43123 refused"]);
    expect(read.chunks.at(-1)).toEqual({ error: { message: "reworded", type: "server_error", param: null, code: "generation_failed" } });
  });

  it("ends with [DONE] when the worker was lost after its finish reason: the answer was whole", async () => {
    const a = workerEvents("chatcmpl-a");
    const { response, bodies } = splice(scriptedStream([a.role, a.text("done"), a.finish()], "fail"), []);
    const read = await readClientStream(response);
    expect(bodies).toEqual([]);
    expect(read.data.at(-1)).toBe("[DONE]");
  });

  it("ends with finish_reason length when the tokens already sent fill max_tokens", async () => {
    const a = workerEvents("chatcmpl-a");
    const { response, bodies } = splice(scriptedStream([a.role, a.text("a"), a.text("b"), a.text("c")], "fail"), [], {
      request: { ...chatRequest, max_tokens: 3 },
    });
    const read = await readClientStream(response);
    expect(bodies).toEqual([]);
    expect(read.chunks.at(-1)?.choices?.[0]?.finish_reason).toBe("length");
    expect(read.chunks.at(-1)?.id).toBe("chatcmpl-a");
    expect(read.data.at(-1)).toBe("[DONE]");
  });

  it("passes a stream that ends normally through byte for byte", async () => {
    const a = workerEvents("chatcmpl-a");
    const events = [a.role, a.text("Hi"), a.finish(), a.usage(3, 1), a.done];
    const { response, bodies } = splice(scriptedStream(events), []);
    expect(await response.text()).toBe(events.join(""));
    expect(bodies).toEqual([]);
  });

  it("cancels the continuation's stream when the client goes away", async () => {
    const a = workerEvents("chatcmpl-a");
    const b = workerEvents("chatcmpl-b");
    const second = scriptedStream([b.role, b.text(" more")], "hang");
    const { response } = splice(scriptedStream([a.role, a.text("Hi")], "fail"), [second]);
    const reader = response.body?.getReader();
    let text = "";
    while (!text.includes(" more")) {
      const chunk = await reader?.read();
      text += new TextDecoder().decode(chunk?.value);
    }
    await reader?.cancel("client gone");
    expect(await second.cancelled).toBe("client gone");
  });

  it("leaves non-streamed answers and error answers as they are", () => {
    const json = new Response("{}", { headers: { "content-type": "application/json" } });
    expect(failoverStream({ request: { ...chatRequest, stream: false }, path: CHAT, first: json, retry: async () => undefined })).toBe(json);
    const failed = new Response("{}", { status: 503, headers: { "content-type": "application/json" } });
    expect(failoverStream({ request: chatRequest, path: CHAT, first: failed, retry: async () => undefined })).toBe(failed);
    const embeddings = scriptedStream([]).response;
    expect(failoverStream({ request: chatRequest, path: "/v1/embeddings", first: embeddings, retry: async () => undefined })).toBe(embeddings);
  });
});

describe("resuming a stream after a break on the way to the worker", () => {
  const bytesOf = (...events: string[]) => new TextEncoder().encode(events.join("")).byteLength;

  it("resumes after the relay's hive_disconnected event at the byte where the worker's last event ended", async () => {
    const a = workerEvents("chatcmpl-a", "chat");
    const sent = [a.role, a.text("Hel"), a.text("lo")];
    const first = scriptedStream([...sent, relayErrorEvent("hive_disconnected")]);
    const rest = scriptedStream([a.text(" world"), a.finish("stop"), a.done]);
    const offsets: number[] = [];
    const { response, bodies, lost } = splice(first, [], {
      resume: async (offset) => {
        offsets.push(offset);
        return rest.response;
      },
    });
    const read = await readClientStream(response);
    expect(read.text).toBe("Hello world");
    expect(offsets).toEqual([bytesOf(...sent)]);
    expect(bodies).toEqual([]); // no continuation was asked of any worker
    expect(lost).toEqual([]);
    expect(read.data.filter((data) => data === "[DONE]")).toHaveLength(1);
    expect(read.data.some((data) => data.includes('"error"'))).toBe(false);
  });

  it("resumes a body that failed mid-event from the end of the last whole one", async () => {
    const a = workerEvents("chatcmpl-a", "chat");
    const sent = [a.role, a.text("Hel")];
    const first = scriptedStream([...sent, a.text("lo").slice(0, 15)], "fail");
    const rest = scriptedStream([a.text("lo"), a.finish("stop"), a.done]);
    const offsets: number[] = [];
    const { response } = splice(first, [], {
      resume: async (offset) => {
        offsets.push(offset);
        return rest.response;
      },
    });
    expect((await readClientStream(response)).text).toBe("Hello");
    expect(offsets).toEqual([bytesOf(...sent)]);
  });

  it("continues instead when the rest cannot be had, or when the stream's events do not end in blank lines it can count", async () => {
    const a = workerEvents("chatcmpl-a", "chat");
    const b = workerEvents("chatcmpl-b", "chat");
    for (const crlf of [false, true]) {
      const events = [a.role, a.text("Hel")].map((event) => (crlf ? event.replaceAll("\n", "\r\n") : event));
      const first = scriptedStream([...events, relayErrorEvent("hive_disconnected")]);
      const second = scriptedStream([b.text("lo"), b.finish("stop"), b.done]);
      let asked = 0;
      const { response, bodies } = splice(first, [second], {
        resume: async () => {
          asked += 1;
          return undefined;
        },
      });
      expect((await readClientStream(response)).text).toBe("Hello");
      expect(asked).toBe(crlf ? 0 : 1);
      expect(bodies).toHaveLength(1);
    }
  });

  it("resumes an answer that offers tools, which no other worker may continue; ends it with worker_lost when the rest cannot be had", async () => {
    const a = workerEvents("chatcmpl-a", "chat");
    const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} } } }];
    const sent = [a.role, a.text("Hel")];
    for (const resumable of [true, false]) {
      const rest = scriptedStream([a.text("lo"), a.finish("stop"), a.done]);
      const { response, bodies } = splice(scriptedStream([...sent, relayErrorEvent("hive_disconnected")]), [scriptedStream([a.text("never")])], {
        request: { ...chatRequest, tools },
        resume: async () => (resumable ? rest.response : undefined),
      });
      const read = await readClientStream(response);
      expect(bodies).toEqual([]);
      if (resumable) {
        expect(read.text).toBe("Hello");
        expect(read.data.at(-1)).toBe("[DONE]");
      } else {
        expect(read.text).toBe("Hel");
        expect((read.chunks.at(-1) as { error?: { code?: string } }).error?.code).toBe("worker_lost");
        expect(read.data).not.toContain("[DONE]");
      }
    }
  });
});

describe("the request's deadline and the end of the client's stream", () => {
  it("cuts a stream still running at its deadline after its last whole event, with request_timeout, and stops its source", async () => {
    const a = workerEvents("chatcmpl-late");
    const first = scriptedStream([a.role, a.text("Hel")], "hang");
    const closes: string[] = [];
    const { response, lost } = splice(first, [], { resume: async () => undefined, deadlineMs: Date.now() + 300, onClose: (how) => closes.push(how) });

    const read = await readClientStream(response);
    expect(read.text).toBe("Hel");
    expect(JSON.parse(read.data.at(-1) ?? "{}")).toMatchObject({ error: { code: "request_timeout", message: expect.stringContaining("X-Request-Timeout") } });
    expect(read.data).not.toContain("[DONE]");
    await first.cancelled;
    expect(closes).toEqual(["cut"]);
    expect(lost).toEqual([]);
  });

  it("says a whole stream ended, once, and a stream its client cancelled was cut, stopping its source", async () => {
    const a = workerEvents("chatcmpl-whole");
    const closes: string[] = [];
    const whole = splice(scriptedStream([a.role, a.text("Hi"), a.finish(), a.done]), [], { deadlineMs: Date.now() + 60_000, onClose: (how) => closes.push(how) });
    expect((await readClientStream(whole.response)).text).toBe("Hi");
    expect(closes).toEqual(["ended"]);

    const left = scriptedStream([a.role, a.text("Hi")], "hang");
    const cut: string[] = [];
    const reader = splice(left, [], { deadlineMs: Date.now() + 60_000, onClose: (how) => cut.push(how) }).response.body?.getReader();
    await reader?.read();
    await reader?.cancel("client went away");
    expect(await left.cancelled).toBe("client went away");
    expect(cut).toEqual(["cut"]);
  });
});
