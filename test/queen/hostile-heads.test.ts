// A hive's response head is checked before any client sees it (shared/protocol/relayed-head.ts):
// a status no answer with a body can have, a worker's refusal of its hive's credentials (which a
// client would read as its own key refused), or a header value no HTTP message can carry, fails the
// relay as the hive's fault (502 invalid_response_head), not as a 500 of the queen's; and of the
// headers a hive sends only the relayed few reach the client, so a hive cannot set cookies, widen
// CORS, or claim another hive or worker served the request.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createKey, errorOf } from "./admin-api.js";
import { auth, TestHive } from "./hive-socket.js";
import { hiveServing } from "./job-client.js";

function chat(model: string, headers: Record<string, string> = auth): Promise<Response> {
  return SELF.fetch("https://queen/v1/chat/completions", {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
}

async function answerWithHead(hive: TestHive, status: number, headers: Record<string, string>): Promise<void> {
  const { requestId } = await hive.next("request");
  hive.send({ type: "response_head", requestId, status, headers });
  hive.send({ type: "response_chunk", requestId, seq: 0, data: "{}" });
  hive.send({ type: "response_end", requestId, chunks: 1 });
}

describe("a hostile hive's response head", () => {
  it("fails the relay with 502 invalid_response_head for a status or a header value no answer can have, and for a worker's refusal of its hive", async () => {
    const hive = await hiveServing("bad-head-hive", "bad-head-model");
    const heads: Array<[status: number, headers: Record<string, string>, names: string]> = [
      [101, { "content-type": "application/json" }, "status 101"],
      [204, { "content-type": "application/json" }, "status 204"],
      [401, { "content-type": "application/json" }, "status 401"],
      [403, { "content-type": "application/json" }, "status 403"],
      [200, { "content-type": "application/json\r\nset-cookie: a=1" }, "content-type header"],
      [200, { "content-type": "x".repeat(5000) }, "content-type header"],
    ];
    for (const [status, headers, names] of heads) {
      const response = chat("bad-head-model");
      await answerWithHead(hive, status, headers);
      const answered = await response;
      expect(answered.status, names).toBe(502);
      expect(await errorOf(answered), names).toMatchObject({ code: "invalid_response_head", message: expect.stringContaining(names) });
      // The hive was told to stop.
      expect(hive.frames.some((frame) => frame.type === "cancel")).toBe(true);
      hive.frames.length = 0;
    }
  });

  it("says an answer ended without its head, when the hive sends its body and end but never a head", async () => {
    const hive = await hiveServing("no-head-hive", "no-head-model");
    const response = chat("no-head-model");
    const { requestId } = await hive.next("request");
    hive.send({ type: "response_chunk", requestId, seq: 0, data: "{}" });
    hive.send({ type: "response_end", requestId, chunks: 1 });
    const answered = await response;
    expect(answered.status).toBe(502);
    expect(await errorOf(answered)).toMatchObject({ code: "response_incomplete", message: expect.stringContaining("without its head") });
  }, 15_000);

  it("passes on only the relayed headers: no cookie, no CORS of the hive's, no served-by of its making", async () => {
    const hive = await hiveServing("cookie-hive", "cookie-model");
    const { key } = await createKey(["inference"]);
    const response = chat("cookie-model", { authorization: `Bearer ${key}`, origin: "https://page.example" });
    await answerWithHead(hive, 200, {
      "content-type": "application/json",
      "Set-Cookie": "session=stolen; Domain=queen",
      "access-control-allow-credentials": "true",
      "access-control-allow-origin": "https://evil.example",
      "x-rbee-hive": "somebody-else",
      "x-rbee-worker": "wrk_fake",
      location: "https://evil.example",
    });
    const answered = await response;
    expect(answered.status).toBe(200);
    expect(answered.headers.get("content-type")).toBe("application/json");
    for (const name of ["set-cookie", "access-control-allow-credentials", "x-rbee-hive", "x-rbee-worker", "location"]) expect(answered.headers.get(name), name).toBeNull();
    expect(answered.headers.get("access-control-allow-origin")).toBe("*");
    await answered.text();
  });
});
