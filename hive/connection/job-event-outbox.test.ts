import { describe, expect, it } from "vitest";
import type { HiveToQueenFrame } from "../../shared/protocol/hive-frames.js";
import type { JobEvent } from "../../shared/protocol/job-event.js";
import { JobEventOutbox, OUTBOX_LIMITS } from "./job-event-outbox.js";

type JobEventFrame = Extract<HiveToQueenFrame, { type: "job_event" }>;

function frame(jobId: string, seq: number, event: JobEvent = { type: "narration", action: "step", message: `step ${seq}` }): JobEventFrame {
  return { type: "job_event", jobId, seq, event };
}

function outbox(limits = OUTBOX_LIMITS) {
  const sent: JobEventFrame[] = [];
  const log: string[] = [];
  let connected = true;
  const box = new JobEventOutbox({
    send: (sentFrame) => {
      if (connected) sent.push(sentFrame);
      return connected;
    },
    log: (line) => log.push(line),
    limits,
  });
  return { box, sent, log, setConnected: (value: boolean) => (connected = value) };
}

describe("JobEventOutbox", () => {
  it("keeps events sent while disconnected and sends them after the next welcome, in order", () => {
    const { box, sent, setConnected } = outbox();
    box.resume();
    box.push(frame("job_a", 0));
    box.pause();
    setConnected(false);
    box.push(frame("job_a", 1));
    box.push(frame("job_a", 2, { type: "done" }));
    expect(sent.map((each) => each.seq)).toEqual([0]);
    setConnected(true);
    box.resume();
    // Event 0 was never acknowledged either, so it goes again; the queen drops the copy.
    expect(sent.map((each) => each.seq)).toEqual([0, 0, 1, 2]);
    expect(box.jobIds()).toEqual(["job_a"]);
  });

  it("forgets what the queen acknowledged, and the job once all of it was", () => {
    const { box, sent } = outbox();
    box.resume();
    for (const seq of [0, 1, 2]) box.push(frame("job_b", seq));
    box.ack("job_b", 1);
    expect(box.size).toBe(1);
    box.pause();
    box.resume();
    expect(sent.slice(3).map((each) => each.seq)).toEqual([2]);
    box.ack("job_b", 2);
    expect(box.jobIds()).toEqual([]);
    expect(box.size).toBe(0);
  });

  it("keeps at most maxEventsPerJob per job, dropping progress and narration first and never the end", () => {
    const { box, sent, log } = outbox({ ...OUTBOX_LIMITS, maxEventsPerJob: 3 });
    box.push(frame("job_c", 0, { type: "data", payload: { result: 1 } }));
    box.push(frame("job_c", 1, { type: "progress", bytes: 1, total: 10 }));
    box.push(frame("job_c", 2, { type: "progress", bytes: 2, total: 10 }));
    box.push(frame("job_c", 3, { type: "done" }));
    box.push(frame("job_c", 4, { type: "narration", action: "late", message: "after the end" }));
    expect(box.size).toBe(3);
    expect(log).toEqual([expect.stringContaining("job_c: the queen has not acknowledged")]);
    box.resume();
    // What remains: the data, the end and the newest narration.
    expect(sent.map((each) => each.seq)).toEqual([0, 3, 4]);
  });

  it("keeps at most maxEvents in all, taking from the job that holds the most", () => {
    const { box } = outbox({ ...OUTBOX_LIMITS, maxEvents: 4 });
    for (const seq of [0, 1, 2, 3]) box.push(frame("job_big", seq));
    box.push(frame("job_small", 0, { type: "done" }));
    expect(box.size).toBe(4);
    box.ack("job_big", 0); // event 0 was the one dropped: nothing left to forget below 1
    expect(box.size).toBe(4);
    box.ack("job_small", 0);
    expect(box.jobIds()).toEqual(["job_big"]);
  });
});
