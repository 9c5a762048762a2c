// A client whose connection closes while it sends a request body is the client's failure, not the
// queen's: its body is refused as incomplete (400, queen/http/body-reading.ts) before any route
// runs, where it used to be counted as a 500 and logged as the queen's failure, with a stack trace
// for each. Raw sockets against the real local queen
// in workerd: a test inside workerd cannot cut its own request's connection.
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type LocalQueen, startLocalQueen } from "../../scripts/local-cloud/queen.js";
import { waitUntil } from "../../shared/wait-until.js";

const ADMIN_KEY = `rbee_sk_${"c".repeat(40)}`;
const CUTS = 3;

describe("a request body its client cuts off", () => {
  let dir = "";
  let queen: LocalQueen;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rbee-cut-bodies-"));
    queen = await startLocalQueen({ persistDir: join(dir, "queen"), adminKey: ADMIN_KEY, port: 0 });
  }, 120_000);

  afterAll(async () => {
    await queen?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  /** The request counts of /metrics by status. */
  async function requestsByStatus(): Promise<Record<string, number>> {
    const text = await (await fetch(`${queen.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
    const counts: Record<string, number> = {};
    for (const [, status, count] of text.matchAll(/^rbee_requests_total\{[^}]*status="(\d+)"[^}]*\} (\d+)/gm)) {
      counts[status ?? ""] = (counts[status ?? ""] ?? 0) + Number(count);
    }
    return counts;
  }

  it("is neither counted as a server error nor logged as the queen's failure", async () => {
    const errors = vi.spyOn(console, "error");
    const before = await requestsByStatus();
    const port = Number(new URL(queen.url).port);
    for (let cut = 0; cut < CUTS; cut += 1) {
      const socket = connect(port, "127.0.0.1");
      await new Promise<void>((resolve) => socket.once("connect", resolve));
      const head = ["POST /v1/chat/completions HTTP/1.1", "host: 127.0.0.1", "content-type: application/json", `authorization: Bearer ${ADMIN_KEY}`, "content-length: 10000"];
      socket.write(`${head.join("\r\n")}\r\n\r\n{"model":"m","messages":[`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      socket.destroy();
    }
    // Samples reach /metrics in the order the requests ended: once this later one is counted, a
    // cut request counted as a 500 would be too.
    const unknown = await fetch(`${queen.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(unknown.status).toBe(404);
    await waitUntil(async () => ((await requestsByStatus())["404"] ?? 0) > (before["404"] ?? 0), 10_000, "the 404 after the cuts counted");
    expect((await requestsByStatus())["500"] ?? 0).toBe(before["500"] ?? 0);
    expect(errors.mock.calls.map((call) => String(call[0])).filter((line) => line.includes("failed"))).toEqual([]);
    errors.mockRestore();
  });

  it("answers a chunked body whose framing breaks 400 body_incomplete, saying so", async () => {
    const socket = connect(Number(new URL(queen.url).port), "127.0.0.1");
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => (answer += text));
    const head = ["POST /v1/chat/completions HTTP/1.1", "host: 127.0.0.1", "content-type: application/json", `authorization: Bearer ${ADMIN_KEY}`, "transfer-encoding: chunked"];
    socket.write(`${head.join("\r\n")}\r\n\r\n5\r\n{"mod\r\nZZ\r\nel":"m"}\r\n0\r\n\r\n`);
    await waitUntil(async () => answer.includes("}}"), 10_000, "an answer to the broken chunked body");
    socket.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"body_incomplete"');
    expect(answer).toContain("chunked framing");
  });
});
