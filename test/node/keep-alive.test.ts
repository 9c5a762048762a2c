// A kept-alive connection to the local queen stays usable after an answer that read no body (a
// 401 before the body was parsed, a 404): the queen reads the rest of the body first
// (queen/http/drain-unread-body.ts). Without that, workerd closed the connection after such an
// answer, and a client reusing it (undici, the OpenAI SDKs) got "other side closed" on its next
// request. Raw bytes on one socket, so the test sees the connection itself, not a client's retry.
import { mkdtemp, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalQueen, startLocalQueen } from "../../scripts/local-cloud/queen.js";

const ADMIN_KEY = `rbee_sk_${"k".repeat(40)}`;

/** Reads whole HTTP/1.1 answers (Content-Length bodies) off one socket, and says when it closes. */
class Connection {
  private buffer = "";
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(private readonly socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      this.wake?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake?.();
    });
  }

  /** Sends one request and resolves with its status, or "closed" when the queen hung up instead. */
  async request(method: string, path: string, headers: Record<string, string>, body = ""): Promise<number | "closed"> {
    const lines = [`${method} ${path} HTTP/1.1`, "host: 127.0.0.1", `content-length: ${Buffer.byteLength(body)}`];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    this.socket.write(`${lines.join("\r\n")}\r\n\r\n${body}`);
    for (;;) {
      const answer = this.takeAnswer();
      if (answer !== undefined) return answer;
      if (this.closed) return "closed";
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private takeAnswer(): number | undefined {
    const end = this.buffer.indexOf("\r\n\r\n");
    if (end < 0) return undefined;
    const head = this.buffer.slice(0, end);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buffer.length < end + 4 + length) return undefined;
    this.buffer = this.buffer.slice(end + 4 + length);
    return Number(head.split(" ")[1]);
  }
}

describe("a kept-alive connection to the local queen", () => {
  let dir = "";
  let queen: LocalQueen;
  let socket: Socket | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rbee-keep-alive-"));
    queen = await startLocalQueen({ persistDir: join(dir, "queen"), adminKey: ADMIN_KEY, port: 0 });
  }, 120_000);

  afterAll(async () => {
    socket?.destroy();
    await queen?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves the next request after answers that read no body: a missing key, a wrong key, an unknown path", async () => {
    const port = Number(new URL(queen.url).port);
    socket = connect(port, "127.0.0.1");
    const connection = new Connection(socket);
    const json = { "content-type": "application/json" };
    const chat = JSON.stringify({ model: "rbee-tiny", max_tokens: 1, messages: [{ role: "user", content: "x".repeat(4000) }] });

    expect(await connection.request("POST", "/v1/chat/completions", json, chat)).toBe(401);
    expect(await connection.request("POST", "/v1/messages", { ...json, "x-api-key": "rbee_sk_wrong" }, chat)).toBe(401);
    expect(await connection.request("POST", "/no-such-path", json, chat)).toBe(404);
    expect(await connection.request("GET", "/v1/models", { authorization: `Bearer ${ADMIN_KEY}` })).toBe(200);
  });
});
