// Relays one client request from the queen to a worker on this machine's loopback and streams
// the worker's answer back as response frames. A chunk goes out as soon as it is read; chunks are
// grouped into one frame only while more are already waiting (read in the same turn of the event
// loop), so the first token and any token after a pause never wait for a timer. Flow control: at
// most RELAY_WINDOW_BYTES may go unacknowledged by the queen (relay-flow.ts); then the relay stops
// reading and the worker's socket fills. What the queen may still ask for again is kept in a
// ResponseBuffer, so the response survives a dropped socket or a reset queen object: it is
// detached (nothing sent) until the queen resumes it from a byte offset. It sends the worker's
// secret (./worker-secrets.ts); which worker may be relayed to at all is WorkerRelays' check.
import type { HiveToQueenFrame, ResponseEndFrame } from "../../shared/protocol/hive-frames.js";
import { RELAY_WINDOW_BYTES } from "../../shared/protocol/relay-flow.js";
import { describeError } from "../../shared/errors.js";
import type { z } from "zod";
import { ResponseBuffer } from "./response-buffer.js";
import { REQUEST_ID_HEADER } from "../../shared/openai/inference-headers.js";

/** Response headers worth passing on to the client. */
const FORWARDED_HEADERS = ["content-type", "cache-control", "retry-after"];

export interface RelayTarget {
  requestId: string;
  /** The worker the queen means; its heartbeats must say it serves `port`. */
  workerId: string;
  port: number;
  path: string;
  body: string;
}

/** Hands a frame to the queen's socket; false when it is not connected. */
export type SendFrame = (frame: HiveToQueenFrame) => unknown;

type Problem = NonNullable<z.infer<typeof ResponseEndFrame>["error"]>;

export class RequestRelay {
  private readonly buffer = new ResponseBuffer();
  private head: { status: number; headers: Record<string, string> } | undefined;
  /** The id the queen knows this response by now (a resume gives it a new one). */
  private wireId: string;
  /** Whether frames go to the queen; false from a lost socket until a resume. */
  private attached = true;
  private seq = 0;
  /** Read but not yet sent: the backlog grouped into the next frame. */
  private unsent = "";
  private flushing = false;
  private ended: { error: Problem | undefined } | undefined;
  private wake: (() => void) | undefined;
  /** The largest part of the body held at once; reported when the window ever filled. */
  private maxHeld = 0;
  private paused = false;

  constructor(
    private readonly target: RelayTarget,
    /** The worker's API secret, sent as `Authorization: Bearer`. */
    private readonly secret: string,
    private readonly signal: AbortSignal,
    private readonly send: SendFrame,
    private readonly log: (line: string) => void,
  ) {
    this.wireId = target.requestId;
    signal.addEventListener("abort", () => this.wake?.(), { once: true });
  }

  get id(): string {
    return this.wireId;
  }

  /** The answer was read to its end (or broke off) and the queen acknowledged all of it, or it failed: nothing to keep. */
  get finished(): boolean {
    return this.ended !== undefined && (this.ended.error !== undefined || this.buffer.unacked === 0);
  }

  get isEnded(): boolean {
    return this.ended !== undefined;
  }

  /** Fetches from the worker and relays its answer; settles when the whole body was read (or it failed or was aborted). */
  async run(): Promise<void> {
    const { target, signal } = this;
    let response: Response;
    try {
      response = await fetch(`http://127.0.0.1:${target.port}${target.path}`, {
        method: "POST",
        // The worker's log lines name the request as the queen and this hive know it.
        headers: { "content-type": "application/json", authorization: `Bearer ${this.secret}`, [REQUEST_ID_HEADER]: this.target.requestId },
        body: target.body,
        signal,
      });
    } catch (error) {
      if (signal.aborted) return;
      this.end({ code: "worker_unreachable", message: `worker on port ${target.port} is unreachable: ${describeError(error)}` });
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    this.head = { status: response.status, headers };
    this.sendFrame({ type: "response_head", requestId: this.wireId, status: response.status, headers });
    const reader = response.body?.getReader();
    try {
      const decoder = new TextDecoder();
      for (;;) {
        if (this.buffer.windowFull) await this.windowOpen();
        if (signal.aborted || !reader) break;
        const { done, value } = await reader.read();
        if (done) break;
        this.push(decoder.decode(value, { stream: true }));
      }
      if (signal.aborted) return;
      this.push(decoder.decode());
      this.end(undefined);
    } catch (error) {
      if (signal.aborted) return;
      this.end({ code: "worker_disconnected", message: `worker on port ${target.port} stopped mid-response: ${describeError(error)}` });
    } finally {
      if (this.paused) {
        this.log(`request ${target.requestId}: the client read slowly; at most ${this.maxHeld} bytes of its answer were held at once (window ${RELAY_WINDOW_BYTES})`);
      }
    }
  }

  /** The queen's client pulled the body up to `offset`: the window reopens. */
  ack(offset: number): void {
    this.buffer.ack(offset);
    if (!this.buffer.windowFull) this.wake?.();
  }

  /** The way to the queen broke: send nothing until a resume. */
  detach(): void {
    this.attached = false;
    this.unsent = "";
  }

  /**
   * Goes on under `requestId` from byte `offset`: the head again, what was read since that offset
   * in one frame, then the rest as it comes. False when the offset is no longer held.
   */
  resume(requestId: string, offset: number): boolean {
    const rest = this.buffer.from(offset);
    if (rest === undefined || !this.head) return false;
    this.wireId = requestId;
    this.attached = true;
    this.seq = 0;
    this.unsent = rest;
    this.sendFrame({ type: "response_head", requestId, ...this.head });
    this.flush();
    if (this.ended) this.sendEnd();
    return true;
  }

  private windowOpen(): Promise<void> {
    if (!this.paused) {
      this.paused = true;
      this.log(`request ${this.target.requestId}: paused reading the worker, ${this.buffer.unacked} bytes unacknowledged (window ${RELAY_WINDOW_BYTES}), ${this.buffer.heldBytes} held`);
    }
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
      // An ack or an abort may have come between the check and now.
      if (!this.buffer.windowFull || this.signal.aborted) this.wake();
    });
  }

  private push(text: string): void {
    if (text.length === 0) return;
    this.buffer.append(text);
    this.maxHeld = Math.max(this.maxHeld, this.buffer.heldBytes);
    if (!this.attached) return;
    this.unsent += text;
    if (this.flushing) return; // a backlog: it goes with the next frame
    this.flush();
    this.flushLater();
  }

  /**
   * Sends what else was read in this turn of the event loop, once it is over; keeps doing so
   * while every turn brings more (a backlog), and stops at the first quiet one.
   */
  private flushLater(): void {
    this.flushing = true;
    setImmediate(() => {
      if (this.flush()) this.flushLater();
      else this.flushing = false;
    });
  }

  private flush(): boolean {
    if (this.unsent.length === 0 || !this.attached) return false;
    this.sendFrame({ type: "response_chunk", requestId: this.wireId, seq: this.seq++, data: this.unsent });
    this.unsent = "";
    return true;
  }

  private end(error: Problem | undefined): void {
    this.ended = { error };
    this.flush();
    this.sendEnd();
  }

  private sendEnd(): void {
    const error = this.ended?.error;
    this.sendFrame({ type: "response_end", requestId: this.wireId, chunks: this.seq, ...(error ? { error } : {}) });
  }

  private sendFrame(frame: HiveToQueenFrame): void {
    if (this.attached) this.send(frame);
  }
}
