// streams/bounded-body.ts on its own: a body that stops coming fails with worker_stalled once a
// read has waited the stall timeout, one that runs past the deadline with request_timeout, and
// either way its source is cancelled (which tells the hive to stop); a body that keeps coming
// passes through whole, however slowly its reader reads.
import { describe, expect, it } from "vitest";
import { boundedBody } from "../../queen/streams/bounded-body.js";

const encoder = new TextEncoder();

/** A source that sends `parts` and then nothing, and says whether (and why) it was cancelled. */
function silentAfter(parts: string[]): { source: ReadableStream<Uint8Array>; cancelled: () => unknown } {
  let reason: unknown;
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(encoder.encode(part));
    },
    cancel(why) {
      reason = why ?? "cancelled";
    },
  });
  return { source, cancelled: () => reason };
}

async function readAll(body: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(body).text();
}

describe("a relayed body bounded in time", () => {
  it("fails with worker_stalled once a read waits the stall timeout, and cancels its source", async () => {
    const { source, cancelled } = silentAfter(['{"object":']);
    const body = boundedBody(source, { stallTimeoutMs: 50, deadlineMs: Date.now() + 60_000 });
    await expect(readAll(body)).rejects.toMatchObject({ code: "worker_stalled" });
    expect(cancelled()).toMatchObject({ code: "worker_stalled" });
  });

  it("fails with request_timeout at the deadline when that comes before the stall timeout", async () => {
    const { source, cancelled } = silentAfter([]);
    const body = boundedBody(source, { stallTimeoutMs: 60_000, deadlineMs: Date.now() + 50 });
    await expect(readAll(body)).rejects.toMatchObject({ code: "request_timeout", status: 504 });
    expect(cancelled()).toMatchObject({ code: "request_timeout" });
  });

  it("passes a body that keeps coming through whole, and a reader slower than the stall timeout does not count", async () => {
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode("one "));
        controller.enqueue(encoder.encode("two"));
        controller.close();
      },
    });
    const reader = boundedBody(source, { stallTimeoutMs: 30, deadlineMs: Date.now() + 60_000 }).getReader();
    const parts: string[] = [];
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 60));
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(new TextDecoder().decode(value));
    }
    expect(parts.join("")).toBe("one two");
  });
});
