// Request bodies are read within bounds (queen/http/body-limit.ts, body-reading.ts): one that
// never finishes arriving gets 408 by its deadline, one of undeclared length growing past the cap
// 413, and an unauthenticated request's body is read away within the same deadline, so its 401 is
// not held up by it. A body its client cuts off: test/node/cut-request-bodies.test.ts.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { auth } from "./hive-socket.js";

const encoder = new TextEncoder();

/** A body that sends `first` and then either nothing more (open) or `chunks` chunks of 64 KiB. */
function bodyStream(first: string, then: "open" | { chunks: number }): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(first));
    },
    async pull(controller) {
      if (then === "open") return new Promise<void>(() => {}); // never more, never the end
      if (sent === then.chunks) return controller.close();
      sent += 1;
      controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
    },
  });
}

async function post(body: ReadableStream<Uint8Array>, headers: Record<string, string> = auth): Promise<Response> {
  return SELF.fetch("https://queen/v1/chat/completions", { method: "POST", headers: { ...headers, "content-type": "application/json" }, body });
}

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

describe("request bodies", () => {
  it("answers 408 body_timeout when the body has not all arrived by the request's X-Request-Timeout", async () => {
    const startedAt = Date.now();
    const response = await post(bodyStream('{"model":"m","messages":[', "open"), { ...auth, "x-request-timeout": "1" });
    expect(response.status).toBe(408);
    expect(await errorOf(response)).toMatchObject({ code: "body_timeout", message: expect.stringContaining("25 bytes of it came in 1 s") });
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });

  it("refuses a body of undeclared length with 413 once it grows past the cap", async () => {
    const response = await post(bodyStream('{"model":"m","pad":"', { chunks: 17 }));
    expect(response.status).toBe(413);
    expect((await errorOf(response)).code).toBe("request_too_large");
  });

  it("refuses a body that is not plain UTF-8 JSON naming why: compressed, another charset, bytes that are not UTF-8", async () => {
    const json = encoder.encode('{"model":"m","messages":[{"role":"user","content":"caf\u00e9"}]}');
    const send = (body: Uint8Array, headers: Record<string, string>) =>
      SELF.fetch("https://queen/v1/chat/completions", { method: "POST", headers: { ...auth, "content-type": "application/json", ...headers }, body });
    const gzipped = new Uint8Array(await new Response(new Blob([json]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    const compressed = await send(gzipped, { "content-encoding": "gzip" });
    expect(compressed.status).toBe(415);
    expect(await errorOf(compressed)).toMatchObject({ code: "unsupported_content_encoding", message: expect.stringContaining("Content-Encoding 'gzip'") });

    const latin1 = await send(encoder.encode('{"model":"m"}'), { "content-type": "application/json; charset=iso-8859-1" });
    expect(latin1.status).toBe(415);
    expect(await errorOf(latin1)).toMatchObject({ code: "unsupported_charset", message: expect.stringContaining("'iso-8859-1'") });

    const notUtf8 = await send(new Uint8Array([...encoder.encode('{"model":"m","x":"caf'), 0xe9, ...encoder.encode('"}')]), {});
    expect(notUtf8.status).toBe(400);
    expect((await errorOf(notUtf8)).code).toBe("invalid_encoding");

    // UTF-8 said outright, in any spelling, is read as ever: the model is unknown, not the body.
    const utf8 = await send(json, { "content-type": 'application/json; charset="UTF-8"' });
    expect((await errorOf(utf8)).code).not.toMatch(/encoding|charset/);
  });

  it("answers a request without a key 401 by its deadline, however slowly its body comes", async () => {
    const startedAt = Date.now();
    // A declared length within the cap: the queen reads such a body away after answering, to keep the connection.
    const response = await post(bodyStream('{"model":"m"', "open"), { "x-request-timeout": "1", "content-length": "1000" });
    expect(response.status).toBe(401);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });
});
