// JobWatchers inside workerd, with real streams: a watcher that never reads is ended once its
// unread bytes pass the bound, told where to resume, and the others keep every event.
import { describe, expect, it } from "vitest";
import type { StampedJobEvent } from "../../shared/protocol/job-event.js";
import { JobWatchers } from "../../queen/jobs/job-watchers.js";

function narration(seq: number): StampedJobEvent {
  return { type: "narration", action: "step", message: "x".repeat(200), job_id: "job_watch1", hive: "h", ts: new Date(0).toISOString(), seq };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe("job watchers", () => {
  it("ends a watcher that never reads once its queue passes the bound, telling it where to resume, while a reader gets every event", async () => {
    const watchers = new JobWatchers(60_000, 4096);
    const backlog = [narration(1), narration(2)];
    const slow = watchers.open(backlog, false);
    const fast = watchers.open(backlog, false);
    const fastText = readAll(fast);
    for (let seq = 3; seq <= 100; seq++) {
      watchers.broadcast(narration(seq), false);
      await new Promise((resolve) => setTimeout(resolve, 0)); // a turn for the reader to read
    }
    // The slow one was let go: only the reader is still held.
    expect(watchers.size).toBe(1);
    watchers.broadcast({ type: "done", job_id: "job_watch1", hive: "h", ts: new Date(0).toISOString(), seq: 101 }, true);
    expect(watchers.size).toBe(0);

    const slowText = await readAll(slow);
    const ids = [...slowText.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));
    const resumeAt = Number(/reconnect with Last-Event-ID: (\d+)/.exec(slowText)?.[1]);
    // It got the backlog and what fit, in order, then the note naming the last event it got.
    expect(ids.slice(0, 2)).toEqual([1, 2]);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    expect(ids.length).toBeLessThan(100);
    expect(resumeAt).toBe(ids.at(-1));
    expect(slowText).not.toContain("event: done");
    expect(slowText.length).toBeLessThan(2 * 4096 + 1024);

    const fastIds = [...(await fastText).matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));
    expect(fastIds).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
  });
});
