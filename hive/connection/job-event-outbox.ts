// Keeps every job event the hive sent until the queen acknowledges it (job_ack), and sends them
// all again after a reconnect's welcome: an event sent while the socket was down, or lost with
// it, still reaches the queen, which drops the copies it already has (events are numbered).
// Bounded, because a queen can stay away for long: past a bound the oldest progress or
// narration events go first (the queen logs the later ones without them); a job's terminal
// event is never dropped, so the queen always learns how a job ended once it is back.
import type { HiveToQueenFrame } from "../../shared/protocol/hive-frames.js";
import { isTerminal } from "../../shared/protocol/job-event.js";

type JobEventFrame = Extract<HiveToQueenFrame, { type: "job_event" }>;

export const OUTBOX_LIMITS = {
  /** Unacknowledged events kept per job. */
  maxEventsPerJob: 1000,
  /** Unacknowledged events kept in all. */
  maxEvents: 10_000,
  /** Bytes (of JSON text) of unacknowledged events kept in all: 32 MiB, two of the largest frames. */
  maxBytes: 32 * 1024 * 1024,
};

interface Kept {
  frame: JobEventFrame;
  bytes: number;
}

export interface JobEventOutboxOptions {
  /** Sends a frame if the socket is open; returns whether it was handed over. */
  send: (frame: JobEventFrame) => boolean;
  log: (line: string) => void;
  limits?: typeof OUTBOX_LIMITS;
}

export class JobEventOutbox {
  /** Per job, its unacknowledged events in seq order. */
  private readonly kept = new Map<string, Kept[]>();
  private events = 0;
  private bytes = 0;
  /** Between a welcome and the socket's end: new events go out at once. */
  private online = false;
  private readonly limits: typeof OUTBOX_LIMITS;
  /** Jobs that lost events to a bound, so the log says it once per job. */
  private readonly warned = new Set<string>();

  constructor(private readonly options: JobEventOutboxOptions) {
    this.limits = options.limits ?? OUTBOX_LIMITS;
  }

  /** Keeps `frame` until acknowledged, and sends it now if the queen is listening. */
  push(frame: JobEventFrame): void {
    const list = this.kept.get(frame.jobId) ?? [];
    this.kept.set(frame.jobId, list);
    const bytes = JSON.stringify(frame).length;
    list.push({ frame, bytes });
    this.events += 1;
    this.bytes += bytes;
    if (list.length > this.limits.maxEventsPerJob) this.dropOldest(frame.jobId, list);
    while (this.events > this.limits.maxEvents || this.bytes > this.limits.maxBytes) {
      const largest = [...this.kept.entries()].reduce((a, b) => (b[1].length > a[1].length ? b : a));
      if (!this.dropOldest(largest[0], largest[1])) break; // only terminal events left: keep them
    }
    if (this.online) this.options.send(frame);
  }

  /** The queen recorded the job's events up to `seq`: forget them. */
  ack(jobId: string, seq: number): void {
    const list = this.kept.get(jobId);
    if (!list) return;
    const remaining = list.filter((kept) => kept.frame.seq > seq);
    for (const kept of list) if (kept.frame.seq <= seq) this.forgetBytes(kept);
    if (remaining.length === 0) {
      this.kept.delete(jobId);
      this.warned.delete(jobId);
    } else {
      this.kept.set(jobId, remaining);
    }
  }

  /** The queen welcomed the hive: send everything it has not acknowledged, oldest first per job. */
  resume(): void {
    this.online = true;
    for (const list of this.kept.values()) {
      for (const { frame } of list) if (!this.options.send(frame)) return; // the socket went again
    }
  }

  /** The socket dropped: keep events until the next welcome. */
  pause(): void {
    this.online = false;
  }

  /** Jobs with events the queen has not acknowledged. */
  jobIds(): string[] {
    return [...this.kept.keys()];
  }

  /** Unacknowledged events kept now. */
  get size(): number {
    return this.events;
  }

  /** Drops the job's oldest progress or narration event, else its oldest non-terminal one; false if none. */
  private dropOldest(jobId: string, list: Kept[]): boolean {
    let index = list.findIndex((kept) => kept.frame.event.type === "progress" || kept.frame.event.type === "narration");
    if (index < 0) index = list.findIndex((kept) => !isTerminal(kept.frame.event));
    if (index < 0) return false;
    const [gone] = list.splice(index, 1);
    if (gone) this.forgetBytes(gone);
    if (list.length === 0) this.kept.delete(jobId);
    if (!this.warned.has(jobId)) {
      this.warned.add(jobId);
      this.options.log(`job ${jobId}: the queen has not acknowledged its events for a while; dropping the oldest to stay within bounds`);
    }
    return true;
  }

  private forgetBytes(kept: Kept): void {
    this.events -= 1;
    this.bytes -= kept.bytes;
  }
}
