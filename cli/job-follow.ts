// Follows a job's event stream (GET /v1/jobs/:id/stream, Server-Sent Events) for `rbee jobs
// watch`, `rbee models pull` and the other commands that wait for a job: narration as lines, and
// progress as a live bar (cli-progress) on a terminal or as plain lines otherwise.
import { SingleBar } from "cli-progress";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { type StampedJobEvent, StampedJobEvent as StampedJobEventSchema, type TerminalJobEvent, isTerminal } from "../shared/protocol/job-event.js";
import { formatBytes, formatDuration, formatProgress } from "../shared/progress-format.js";
import { CliError, EXIT } from "./cli-error.js";
import type { QueenApi } from "./queen-api.js";

/** Fewest ms between two plain progress lines: a log file wants a trace, not every chunk. */
const PLAIN_PROGRESS_INTERVAL_MS = 1000;

export interface FollowOptions {
  /** Shown before the bar and in plain lines, e.g. the operation. */
  label: string;
  /** A live bar (stdout is a terminal) or plain lines. */
  live: boolean;
  /** Print narration and progress; false: only wait for the end. */
  verbose: boolean;
  signal?: AbortSignal;
}

export interface JobOutcome {
  end: TerminalJobEvent;
  /** The job's last `data` payload, if it sent one. */
  data: Record<string, unknown> | undefined;
}

export async function followJob(api: QueenApi, jobId: string, options: FollowOptions): Promise<JobOutcome> {
  const response = await api.send("GET", `/v1/jobs/${encodeURIComponent(jobId)}/stream`, { signal: options.signal });
  const view = options.verbose ? new ProgressView(jobId, options.label, options.live) : undefined;
  let data: Record<string, unknown> | undefined;
  try {
    const events = response.body?.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
    for await (const message of events ?? []) {
      const parsed = StampedJobEventSchema.safeParse(JSON.parse(message.data));
      if (!parsed.success) continue; // an event of a newer queen: nothing this CLI can show
      const event = parsed.data;
      if (event.type === "data") data = event.payload;
      view?.show(event);
      if (isTerminal(event)) return { end: event, data };
    }
  } finally {
    view?.stop();
  }
  throw new CliError(EXIT.failed, "job_stream_ended", `the stream of job ${jobId} ended before the job did: run rbee jobs watch ${jobId} to follow it again.`);
}

/**
 * `cancelled`, with why when the job's end says more than that: a hive's own cancel ends with
 * "job <id> was cancelled", which said after "job <id> was cancelled" would only repeat it.
 */
export function describeCancel(jobId: string, message: string | undefined): string {
  return message === undefined || message === `job ${jobId} was cancelled` ? "cancelled" : `cancelled: ${message}`;
}

/** What a person sees while a job runs. */
class ProgressView {
  private bar: SingleBar | undefined;
  private lastPlainMs = Number.NEGATIVE_INFINITY;
  private readonly startedMs = Date.now();

  constructor(
    private readonly jobId: string,
    private readonly label: string,
    private readonly live: boolean,
  ) {}

  show(event: StampedJobEvent): void {
    switch (event.type) {
      case "narration":
        this.line(`${event.action}: ${event.message}`);
        return;
      case "progress":
        if (this.live) this.updateBar(event.bytes, event.total, event.bytes_per_second);
        else this.plainProgress(event.bytes, event.total, event.bytes_per_second);
        return;
      case "data":
        return;
      case "done":
        this.line("done");
        return;
      case "error":
        this.line(`error ${event.code}: ${event.message}`);
        return;
      case "cancelled":
        this.line(describeCancel(this.jobId, event.message));
        return;
      default: {
        const unreachable: never = event;
        throw new Error(`unknown job event ${JSON.stringify(unreachable)}`);
      }
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  private line(text: string): void {
    // A line printed under a live bar would be overwritten by its next redraw.
    if (this.bar) this.bar.stop();
    this.bar = undefined;
    process.stdout.write(`${this.jobId} ${text}\n`);
  }

  private plainProgress(bytes: number, total: number | null, rate: number | undefined): void {
    const now = Date.now();
    if (now - this.lastPlainMs < PLAIN_PROGRESS_INTERVAL_MS && bytes !== total) return;
    this.lastPlainMs = now;
    process.stdout.write(`${formatProgress({ jobId: this.jobId, label: this.label, bytes, total, bytesPerSecond: rate ?? null, startedMs: this.startedMs }, false)}\n`);
  }

  private updateBar(bytes: number, total: number | null, rate: number | undefined): void {
    const payload = {
      sizes: total === null ? formatBytes(bytes) : `${formatBytes(bytes)}/${formatBytes(total)}`,
      rate: rate === undefined ? "" : `${formatBytes(rate)}/s`,
      left: rate !== undefined && rate > 0 && total !== null && total > bytes ? `ETA ${formatDuration(((total - bytes) / rate) * 1000)}` : "",
    };
    if (this.bar === undefined) {
      this.bar = new SingleBar({
        format: `${this.label} [{bar}] {percentage}% {sizes} {rate} {left}`,
        stream: process.stdout,
        hideCursor: true,
        clearOnComplete: false,
      });
      this.bar.start(total ?? Math.max(bytes, 1), bytes, payload);
    }
    if (total !== null) this.bar.setTotal(total);
    this.bar.update(bytes, payload);
  }
}
