// Failover after the first token: the inference route hands over a streamed answer it is
// relaying, and the client reads one stream whatever happens to the worker behind it. The events
// pass through as they come while a transcript keeps what the client has seen; when the stream
// breaks before its end (the queen's relay appends an error event such as `worker_disconnected`
// or `hive_disconnected` and closes, the body itself fails, it simply stops short, or nothing
// arrives for `stallTimeoutMs`), the answer goes on:
// - When only the way to the worker broke (lostOnTheWay: the hive's socket dropped, or the
//   queen's object relaying it was reset, as a deploy does), the same answer is resumed from the
//   byte where the client's last whole event ended (`resume`; the hive keeps it for a while): the
//   worker generated every token once, and the client reads the very stream it would have.
// - Otherwise, or when the hive cannot resume it, the answer is asked of another worker as a
//   continuation (continuation-request.ts) and that worker's stream is spliced in
//   (spliced-chunk.ts).
// When no worker can continue it, the client gets one final error event (terminal-error-event.ts):
// never a hang, never a cut-off that looks like a normal end. An answer still running at the
// request's deadline (X-Request-Timeout) ends there the same way, with `request_timeout`.
//
// The one stage of the route that reads the relayed body: the deadline, the route's leases
// (`onClose`), the client's error wording (`rewordError`) and the usage meter's count (`meter`,
// `hideUsageChunk`) are kept here rather than in stream layers of their own. In workerd the first
// JavaScript layer over a relayed body costs each chunk ~0.13 ms of CPU on a 2-core VM, and each
// further layer ~0.02 ms (bench/README.md, queen-path); the meter's own layers, which parsed each
// event again, cost ~0.1 ms a frame more (bench/README.md, 2026-12-06).
//
// Non-streamed answers are not this module's: until their body is complete nothing has reached
// the client, so the route's retry before the first byte covers them (failoverStream returns
// them unchanged).
import { describeError, type OpenAiErrorBody } from "../../shared/errors.js";
import { EVENT_END_BYTE } from "../../shared/protocol/relay-flow.js";
import { errorBodyOf } from "../client-errors/error-body.js";
import { isEventStream } from "../http/event-stream.js";
import { asContinuable, type ContinuableRequest, continuationRequest } from "./continuation-request.js";
import { lengthFinishChunk, splicedChunk } from "./spliced-chunk.js";
import { SseDataReader } from "./sse-data-reader.js";
import { DONE_EVENT, isUsageChunk, readStreamEvent, type StreamChunk, sseEvent } from "./stream-event.js";
import { StreamTranscript } from "./stream-transcript.js";
import { lostAnswerError, terminalErrorEvent } from "./terminal-error-event.js";

export interface FailoverStreamOptions {
  /** The validated request the route relayed (its body, as an object). */
  request: unknown;
  /** The path it was relayed to; only chat and legacy completions are continued. */
  path: string;
  /** The relayed response of the first worker, unredacted (error codes are read from it). */
  first: Response;
  /**
   * Relays `body` (a request to the same path) to another worker and resolves with its
   * response; undefined when no worker can be had. The route places it, excluding the workers
   * already lost (`lost` says why the last one stopped: see lostOnTheWay), and holds its lease
   * until the client's stream ends or that worker is lost too.
   */
  retry: (body: string, lost: LostCause) => Promise<Response | undefined>;
  /**
   * Asks for the rest of the current worker's answer from byte `offset` of its body (the end of
   * the client's last whole event), after the way to it broke; resolves with that rest, or
   * undefined when it cannot be had (the answer is then continued elsewhere, by `retry`).
   */
  resume?: (offset: number) => Promise<Response | undefined>;
  /** Continuations tried at most, per client stream. Default 2. */
  maxContinuations?: number;
  /** Silence within an answer that counts as a lost worker, in ms. Default 60,000. */
  stallTimeoutMs?: number;
  /**
   * A worker was lost mid-answer: `attempt` 0 is the first worker, 1 the first continuation's.
   * The route ends that worker's lease (`relay_lost` when only the way to it broke). Not called
   * for an answer resumed from its hive: the same worker answers on.
   */
  onWorkerLost?: (attempt: number, cause: LostCause) => void;
  /**
   * The request's deadline (unix ms, X-Request-Timeout): an answer still running then ends after
   * the client's last whole event with a `request_timeout` error event, and its source is
   * cancelled, which tells the hive to stop the generation. None by default.
   */
  deadlineMs?: number;
  /**
   * The client's stream is over: `ended` once its last event went out, `cut` when the client
   * cancelled it or the deadline cut it (the route then gives its leases back and stops the hive).
   */
  onClose?: (how: "ended" | "cut") => void;
  /**
   * How an error event reaches the client: the worker's own, a lost answer's, the deadline's. The
   * route rewords them for clients without the admin scope (client-errors/redact-relay-errors.ts).
   */
  rewordError?: (body: OpenAiErrorBody) => OpenAiErrorBody;
  /**
   * Told of every chunk the client gets, of the first bytes it gets and of its stream's end
   * (usage/stream-meter.ts counts the answer's tokens so). With a meter the answer is always
   * spliced here, and its end always told; an answer that is no event stream ends it at once.
   */
  meter?: ChunkMeter;
  /** The usage chunk, counted by the meter, does not reach the client (it did not ask for it: usage/unasked-usage.ts). */
  hideUsageChunk?: boolean;
}

/** What the usage meter is told of a spliced stream (usage/stream-meter.ts). */
export interface ChunkMeter {
  chunk(chunk: StreamChunk): void;
  sent(): void;
  /** The client's stream is over; `cut` names why it stopped short of the answer's end (CLIENT_GONE, an error's code). */
  end(cut?: string): void;
}

/** Why a stream was cut when its client left before its end. */
export const CLIENT_GONE = "client_gone";

/** The code of the error event that ends a stream at its deadline. */
export const REQUEST_TIMEOUT = "request_timeout";

/** Why a stream stopped short of its end. */
export interface LostCause {
  code: string;
  message: string;
}

export const FAILOVER_DEFAULTS = {
  maxContinuations: 2,
  /** Resumes of one worker's answer at most: a way that keeps breaking is given up for a continuation. */
  maxResumes: 3,
  /**
   * Once a worker streams, its tokens come many times a second and the hive relays them at least
   * every 100 ms (its FlushTick); a minute with none means the worker (or the way to it) is stuck,
   * not slow.
   */
  stallTimeoutMs: 60_000,
};

/**
 * Error codes of a stream event that mean the way to the worker was lost, not that the request
 * failed: the queen's relay errors (pending-relay.ts, hive-session.ts) and a worker going away.
 * Any other error event is the worker's word on the request and reaches the client as it is.
 */
const LOST_WORKER_CODES = new Set([
  "worker_disconnected",
  "hive_disconnected",
  "response_incomplete",
  "response_out_of_order",
  "invalid_response_frame",
  "hive_error",
  "worker_unreachable",
  "worker_timeout",
  "worker_stopping",
  "worker_draining",
]);

/**
 * Breaks on the way to the worker that say nothing against the worker itself: its hive's socket
 * dropped, or the queen's own object relaying it was reset (a deploy resets Durable Objects). The
 * worker may well serve the rest once its hive is back, so a continuation may go to it again.
 */
const LOST_ON_THE_WAY_CODES = new Set(["hive_disconnected", "relay_lost"]);

export function lostOnTheWay(cause: LostCause): boolean {
  return LOST_ON_THE_WAY_CODES.has(cause.code);
}

export function failoverStream(options: FailoverStreamOptions): Response {
  const { first } = options;
  const original = asContinuable(options.path, options.request);
  // An answer that cannot be continued (it offers tools) can still be resumed, cut at its
  // deadline, reworded, and its end reported.
  const nothingToDo = !original && !options.resume && options.deadlineMs === undefined && !options.onClose && !options.rewordError && !options.meter;
  if (!first.ok || !first.body || !isEventStream(first)) {
    options.meter?.end();
    return first;
  }
  if (nothingToDo) return first;
  const spliced = new SplicedStream(original, first.body, options);
  return new Response(spliced.body, { status: first.status, headers: first.headers });
}

/** One worker's stream feeding the client's: the first worker's, or a continuation's (or the rest of either, resumed). */
interface Source {
  reader: ReadableStreamDefaultReader<Uint8Array>;
  events: SseDataReader;
  /** 0 for the first worker, n for the nth continuation. */
  attempt: number;
  /** The transcript's token estimate when this source's worker began its answer. */
  tokensBefore: number;
  /** Where this worker's answer stands: bytes of its body read, and where events ended in them. */
  bytes: EventEnds;
  /** How often this worker's answer was resumed already. */
  resumes: number;
  sawDone: boolean;
  /** An error event this source sent; nothing it sends after counts. */
  error: { lost: true; cause: LostCause } | { lost: false; code: string; event: string } | undefined;
  /** The source is over (with the cause its read gave, if any); what it sent before goes out first. */
  over: { cause: LostCause | undefined } | undefined;
}

type ReadResult = { kind: "bytes"; value: Uint8Array } | { kind: "end" } | { kind: "failed"; error: unknown } | { kind: "stalled" } | { kind: "deadline" };

const encoder = new TextEncoder();

class SplicedStream {
  readonly body: ReadableStream<Uint8Array>;
  private readonly transcript = new StreamTranscript();
  private readonly maxContinuations: number;
  private readonly stallTimeoutMs: number;
  private source: Source;
  /** Events ready for the client. */
  private out: string[] = [];
  private finished = false;
  private cancelled = false;
  private closed = false;
  /** The code of the error that ended the client's stream short of its answer; undefined while none did. */
  private cutWith: string | undefined;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  private deadlinePassed = false;
  /**
   * One stall watch for the whole stream rather than a timer, a race and two promises per read
   * (about a tenth of a one-event read's cost in Node, bench/README.md, queen-path). It looks at
   * when the read under way began and, once that read has waited stallTimeoutMs, ends it as
   * `stalled`; a client that is slow to read is not a silent worker, so only the time a read waits counts.
   */
  private stallTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the read under way began (ms since the epoch); undefined between reads. */
  private readStartedMs: number | undefined;
  /** Settles the read under way early (`stalled`, `deadline`); undefined between reads. */
  private interruptRead: ((result: ReadResult) => void) | undefined;

  constructor(
    /** Undefined for an answer no other worker can continue: it may only be resumed. */
    private readonly original: ContinuableRequest | undefined,
    first: ReadableStream<Uint8Array>,
    private readonly options: FailoverStreamOptions,
  ) {
    this.maxContinuations = options.maxContinuations ?? FAILOVER_DEFAULTS.maxContinuations;
    this.stallTimeoutMs = options.stallTimeoutMs ?? FAILOVER_DEFAULTS.stallTimeoutMs;
    this.source = this.newSource(first, 0);
    const { deadlineMs } = options;
    if (deadlineMs !== undefined) {
      this.deadlineTimer = setTimeout(() => {
        this.deadlinePassed = true;
        this.interruptRead?.({ kind: "deadline" });
      }, Math.max(0, deadlineMs - Date.now()));
    }
    // Pull-based like tap-stream.ts: nothing is read ahead of the client, and its cancel reaches
    // the worker's stream (and so the hive) at once.
    this.body = new ReadableStream<Uint8Array>(
      { pull: (controller) => this.pull(controller), cancel: (reason) => this.cancel(reason) },
      { highWaterMark: 0 },
    );
  }

  private async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    try {
      while (this.out.length === 0 && !this.finished) await this.step();
    } catch (error) {
      // A bug here must still end the client's stream with an error, not leave it hanging.
      this.fail({ code: "internal_error", message: describeError(error) }, "the queen failed to splice the answer");
    }
    if (this.cancelled) return;
    if (this.out.length > 0) {
      controller.enqueue(encoder.encode(this.out.join("")));
      this.options.meter?.sent();
    }
    this.out = [];
    if (this.finished) {
      controller.close();
      this.close("ended");
    }
  }

  private async cancel(reason: unknown): Promise<void> {
    this.cancelled = true;
    this.finish();
    this.close("cut");
    await this.source.reader.cancel(reason).catch(() => {});
  }

  /** Tells the route, once, how the client's stream ended. */
  private close(how: "ended" | "cut"): void {
    if (this.closed) return;
    this.closed = true;
    this.options.onClose?.(how);
    this.options.meter?.end(this.cancelled ? CLIENT_GONE : this.cutWith);
  }

  /** The deadline passed: the client gets the events it has, then the timeout, and the worker is stopped. */
  private async cutAtDeadline(): Promise<void> {
    const message = "The answer was cut off because the request's deadline (X-Request-Timeout) passed; ask for fewer tokens or allow more time.";
    this.out.push(this.errorEvent(lostAnswerError(message, REQUEST_TIMEOUT, 504)));
    this.cutWith = REQUEST_TIMEOUT;
    this.finish();
    this.close("cut");
    await this.source.reader.cancel(new Error("the request's deadline passed")).catch(() => {});
  }

  /**
   * Reads the current source once; once it is over (and what it sent before has gone out, so
   * the client is not kept waiting for it while another worker is found), decides how the
   * answer goes on.
   */
  private async step(): Promise<void> {
    const source = this.source;
    // Checked first: a continuation or resume may have taken the answer past it.
    if (this.deadlinePassed && !source.sawDone) return this.cutAtDeadline();
    if (source.over) return this.afterSource(source, source.over.cause);
    const read = await this.read(source);
    if (this.cancelled) return;
    if (read.kind === "deadline") return this.cutAtDeadline();
    if (read.kind === "bytes") {
      source.bytes.scan(read.value);
      source.events.push(read.value);
      // An error event is the last word of its stream: stop reading it.
      if (source.error) {
        await source.reader.cancel().catch(() => {});
        source.over = { cause: undefined };
      }
      return;
    }
    if (read.kind === "end") source.events.end();
    if (read.kind === "stalled") await source.reader.cancel().catch(() => {});
    source.over = { cause: lostCauseOf(read) };
  }

  /**
   * One read of `source`, or how it was cut short. A read left behind by an interruption settles
   * into nothing: its source is cancelled next (step, cutAtDeadline).
   */
  private read(source: Source): Promise<ReadResult> {
    this.readStartedMs = Date.now();
    this.stallTimer ??= setTimeout(() => this.checkStall(), this.stallTimeoutMs);
    return new Promise<ReadResult>((resolve) => {
      const settle = (result: ReadResult) => {
        // A read that settles after it was interrupted is ignored: the stream has moved on.
        if (this.interruptRead !== settle) return;
        this.readStartedMs = undefined;
        this.interruptRead = undefined;
        resolve(result);
      };
      this.interruptRead = settle;
      source.reader.read().then(
        ({ done, value }) => settle(done ? { kind: "end" } : { kind: "bytes", value }),
        (error: unknown) => settle({ kind: "failed", error }),
      );
    });
  }

  /** The stall watch's turn: a read waiting stallTimeoutMs ends as `stalled`; otherwise it looks again when one could have. */
  private checkStall(): void {
    this.stallTimer = undefined;
    if (this.finished) return;
    const waitedMs = this.readStartedMs === undefined ? 0 : Date.now() - this.readStartedMs;
    // The next read sets the watch again.
    if (waitedMs >= this.stallTimeoutMs) return this.interruptRead?.({ kind: "stalled" });
    this.stallTimer = setTimeout(() => this.checkStall(), this.stallTimeoutMs - waitedMs);
  }

  private onData(source: Source, data: string): void {
    source.bytes.eventSeen();
    if (source.sawDone || source.error) return;
    const event = readStreamEvent(data);
    switch (event.kind) {
      case "done":
        source.sawDone = true;
        this.out.push(DONE_EVENT);
        return;
      case "error": {
        const code = event.body.error.code ?? "";
        source.error = LOST_WORKER_CODES.has(code)
          ? { lost: true, cause: { code, message: event.body.error.message } }
          : { lost: false, code, event: this.options.rewordError ? this.errorEvent(event.body) : sseEvent(data) };
        return;
      }
      case "malformed":
        // Nothing of a broken event reaches the client: the continuation starts after the last whole one.
        source.error = { lost: true, cause: { code: "response_incomplete", message: "the stream broke off inside an event" } };
        return;
      case "other":
        this.out.push(sseEvent(data));
        return;
      case "chunk": {
        // The first worker's chunks go on byte for byte.
        const shown = source.attempt === 0 ? event.chunk : splicedChunk(event.chunk, this.transcript, source.tokensBefore);
        if (!shown) return;
        this.transcript.record(shown);
        this.options.meter?.chunk(shown);
        if (this.options.hideUsageChunk && isUsageChunk(shown)) return;
        this.out.push(sseEvent(shown === event.chunk ? data : JSON.stringify(shown)));
        return;
      }
    }
  }

  /** The source is over: the answer ends, or goes on from another worker. */
  private async afterSource(source: Source, readCause: LostCause | undefined): Promise<void> {
    if (source.sawDone) return this.finish();
    if (source.error && !source.error.lost) {
      this.out.push(source.error.event);
      this.cutWith = source.error.code;
      return this.finish();
    }
    // Lost after its finish reason: the answer is whole, only its `[DONE]` is missing.
    if (this.transcript.finishReason) {
      this.out.push(DONE_EVENT);
      return this.finish();
    }
    const cause = source.error?.cause ?? readCause ?? { code: "response_incomplete", message: "the stream ended before [DONE]" };
    if (lostOnTheWay(cause) && (await this.resumed(source))) return;
    this.options.onWorkerLost?.(source.attempt, cause);
    await this.continueElsewhere(source.attempt, cause);
  }

  private async continueElsewhere(lostAttempt: number, lost: LostCause): Promise<void> {
    if (!this.original) return this.fail(lost, "an answer that offers tools cannot be continued by another worker (a call cut off mid-arguments cannot go on as text)");
    if (!this.transcript.continuable) return this.fail(lost, "an answer with several choices cannot be continued");
    let cause = lost;
    for (let attempt = lostAttempt + 1; attempt <= this.maxContinuations; attempt += 1) {
      const { original } = this;
      const next = continuationRequest(original, this.transcript);
      if (next.kind === "budget_spent") {
        const kind = original.path === "/v1/chat/completions" ? "chat" : "completion";
        this.out.push(sseEvent(JSON.stringify(lengthFinishChunk(kind, this.transcript))), DONE_EVENT);
        return this.finish();
      }
      let response: Response | undefined;
      try {
        response = await this.options.retry(next.body, cause);
      } catch (error) {
        cause = { code: "retry_failed", message: describeError(error) };
        continue;
      }
      if (this.cancelled) {
        await response?.body?.cancel().catch(() => {});
        return;
      }
      if (!response) return this.fail(cause, "no other worker could take it over");
      const refused = await refusalOf(response);
      if (refused || !response.body) {
        cause = refused ?? { code: "empty_response", message: "the continuation had no body" };
        this.options.onWorkerLost?.(attempt, cause);
        continue;
      }
      this.source = this.newSource(response.body, attempt);
      return;
    }
    this.fail(cause, `${this.maxContinuations} other worker(s) could not finish it either`);
  }

  /**
   * Asks for the rest of `source`'s answer from where the client's last whole event ended, and
   * makes it the source; false when there is no such offset or the rest cannot be had.
   */
  private async resumed(source: Source): Promise<boolean> {
    // An error event the queen appended (hive_disconnected) is not the worker's: resume before it.
    const offset = source.bytes.resumeOffset(source.error !== undefined);
    if (!this.options.resume || offset === undefined || source.resumes >= FAILOVER_DEFAULTS.maxResumes) return false;
    let response: Response | undefined;
    try {
      response = await this.options.resume(offset);
    } catch {
      return false;
    }
    if (this.cancelled) {
      await response?.body?.cancel().catch(() => {});
      return true;
    }
    if (!response || (await refusalOf(response)) || !response.body) return false;
    this.source = this.newSource(response.body, source.attempt, { tokensBefore: source.tokensBefore, offset, resumes: source.resumes + 1 });
    return true;
  }

  private newSource(body: ReadableStream<Uint8Array>, attempt: number, resuming?: { tokensBefore: number; offset: number; resumes: number }): Source {
    const source: Source = {
      reader: body.getReader(),
      events: new SseDataReader({
        onData: (data) => this.onData(source, data),
        // The event is lost to the client, so a continuation would leave a hole: end instead.
        onOversized: () => {
          const code = "response_too_large";
          source.error ??= { lost: false, code, event: this.errorEvent(lostAnswerError("The worker sent an event too long to relay.", code)) };
        },
      }),
      attempt,
      tokensBefore: resuming?.tokensBefore ?? this.transcript.tokensEstimate,
      bytes: new EventEnds(resuming?.offset ?? 0),
      resumes: resuming?.resumes ?? 0,
      sawDone: false,
      error: undefined,
      over: undefined,
    };
    return source;
  }

  private errorEvent(body: OpenAiErrorBody): string {
    return terminalErrorEvent(body, this.options.rewordError);
  }

  private fail(cause: LostCause, why: string): void {
    this.out.push(this.errorEvent(lostAnswerError(`The worker answering this request was lost mid-answer (${cause.code}: ${cause.message}), and ${why}.`)));
    this.cutWith = cause.code;
    this.finish();
  }

  private finish(): void {
    this.finished = true;
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer);
  }
}

/**
 * Where events end in a worker's streamed answer, as byte offsets into its body: the resume
 * offset is where the client's last whole event ended. The workers end each event with a blank
 * line (EVENT_END); an answer whose blank lines and events do not tally (comments, CRLF line ends)
 * has no offset to resume from, and is continued instead.
 */
class EventEnds {
  private lastByte: number | undefined;
  private ends = 0;
  private events = 0;
  /** The end of the last event, and of the one before it. */
  private last: number;
  private beforeLast: number | undefined;

  constructor(private read: number) {
    this.last = read;
  }

  scan(chunk: Uint8Array): void {
    for (let i = chunk.indexOf(EVENT_END_BYTE); i !== -1; i = chunk.indexOf(EVENT_END_BYTE, i + 1)) {
      if ((i > 0 ? chunk[i - 1] : this.lastByte) !== EVENT_END_BYTE) continue;
      this.beforeLast = this.last;
      this.last = this.read + i + 1;
      this.ends += 1;
    }
    if (chunk.length > 0) this.lastByte = chunk[chunk.length - 1];
    this.read += chunk.length;
  }

  /** The SSE parser handed on an event (each counts, the one that ended the stream too). */
  eventSeen(): void {
    this.events += 1;
  }

  /** Where to resume: after the last event, or the one before it when the last was not the worker's. */
  resumeOffset(dropLastEvent: boolean): number | undefined {
    if (this.ends !== this.events) return undefined;
    return dropLastEvent ? this.beforeLast : this.last;
  }
}

function lostCauseOf(read: ReadResult): LostCause | undefined {
  // A relayed event stream never fails on the hive's or the worker's account (those breaks come
  // as error events, pending-relay.ts): a body that fails is the stream from the queen's relaying
  // object breaking, which a reset of that object does.
  if (read.kind === "failed") return { code: "relay_lost", message: describeError(read.error) };
  if (read.kind === "stalled") return { code: "worker_stalled", message: "the worker sent nothing for too long" };
  return undefined;
}

/** Why a continuation's response cannot be spliced in, or undefined when it can. */
async function refusalOf(response: Response): Promise<LostCause | undefined> {
  if (response.ok && isEventStream(response)) return undefined;
  // An error answer is a small JSON body; a successful one of the wrong kind is not read.
  const error = response.ok ? undefined : errorBodyOf(await response.text().catch(() => ""));
  if (response.ok) await response.body?.cancel().catch(() => {});
  return { code: error?.error.code ?? `status_${response.status}`, message: error?.error.message ?? `the continuation answered ${response.status}` };
}
