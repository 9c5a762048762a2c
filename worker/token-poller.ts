// Keeps the worker's event loop polling, instead of sleeping, while tokens come fast.
//
// node-llama-cpp hands each token through two native calls (decode, then sample), each a job on
// libuv's thread pool that wakes the main thread when it is done. A main thread asleep in epoll
// pays a wake-up for each, dearest on a VM, where a vCPU that went idle must be woken through the
// hypervisor. When a token takes 100–300 µs to compute (a small model, a fast GPU) those wake-ups
// are a large part of it: on a 2-vCPU VM node-llama-cpp generated the tiny model 1.6–1.7× faster
// with the main thread kept busy, and the worker streamed it 1.1–1.3× faster (bench/README.md,
// "Polling between tokens"). llama.cpp's own threads poll for work the same way (`--poll`).
//
// Polling is a chain of setImmediate callbacks: each turn of the loop checks for I/O without
// blocking, so HTTP is served as before. It runs only while the tokens' gaps are shorter than
// the window, and stops one window after the last token: a model that takes longer than the
// window per token never polls, and its wake-ups are too small a part of its time to matter.
import { performance } from "node:perf_hooks";
import type { WorkerDevice } from "../shared/protocol/worker-heartbeat.js";

/** How much the newest gap between tokens moves the running average (an exponential mean). */
const GAP_SMOOTHING = 0.2;

export interface TokenPollerOptions {
  /** How long to poll after a token for the next one, in µs; 0 never polls. */
  windowUs: number;
  /** The clock, in ms; tests pass their own. */
  now?: () => number;
}

/**
 * The window a worker polls with: as asked, but none on a CPU whose every core computes tokens
 * (`threads` ≥ `cpus`), where the polling thread would take time from them.
 */
export function pollWindowUs(asked: number, engine: { device: WorkerDevice; threads: number; cpus: number }): number {
  return engine.device === "cpu" && engine.threads >= engine.cpus ? 0 : asked;
}

export class TokenPoller {
  private readonly windowMs: number;
  private readonly now: () => number;
  /** When the last token came, or a generation started. */
  private lastActivityAt = Number.NEGATIVE_INFINITY;
  /** Whether the next token ends a gap between two tokens (not the wait for a first token). */
  private betweenTokens = false;
  /** Running average of the gap between tokens, in ms; undefined before any gap was seen. */
  private averageGapMs: number | undefined;
  private polling = false;

  constructor({ windowUs, now = () => performance.now() }: TokenPollerOptions) {
    this.windowMs = windowUs / 1000;
    this.now = now;
  }

  /** Whether the event loop is being kept busy now. */
  get isPolling(): boolean {
    return this.polling;
  }

  /**
   * A generation starts: poll for its first token if tokens came fast before. The wait for it
   * (the prompt) and the idle time before are not gaps between tokens.
   */
  onGenerationStart(): void {
    this.lastActivityAt = this.now();
    this.betweenTokens = false;
    this.pollIfFast();
  }

  /** A token was generated (by any slot): poll for the next one if tokens come fast. */
  onToken(): void {
    const now = this.now();
    if (this.betweenTokens) {
      const gap = now - this.lastActivityAt;
      this.averageGapMs = this.averageGapMs === undefined ? gap : this.averageGapMs + GAP_SMOOTHING * (gap - this.averageGapMs);
    }
    this.betweenTokens = true;
    this.lastActivityAt = now;
    this.pollIfFast();
  }

  private pollIfFast(): void {
    if (this.polling || this.averageGapMs === undefined || this.averageGapMs >= this.windowMs) return;
    this.polling = true;
    setImmediate(this.poll);
  }

  /** One turn of polling; schedules the next until a window passes without a token. */
  private readonly poll = (): void => {
    if (this.now() - this.lastActivityAt < this.windowMs) {
      setImmediate(this.poll);
      return;
    }
    this.polling = false;
  };
}
