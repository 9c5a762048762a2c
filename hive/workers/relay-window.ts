// The hive's half of relay flow control (shared/protocol/relay-flow.ts): counts the bytes of one
// answer sent to the queen and those the queen acknowledged as pulled by its client, and makes
// the relay wait before reading more of the worker's answer while a window is unacknowledged.
// A client that stops reading thus stops the hive reading the worker, and the worker's socket
// fills, instead of the answer piling up in the queen's Durable Object.
import { RELAY_WINDOW_BYTES } from "../../shared/protocol/relay-flow.js";

export class RelayWindow {
  private sentBytes = 0;
  private ackedBytes = 0;
  private wake: (() => void) | undefined;
  /** The most bytes that were unacknowledged at once. */
  maxUnacked = 0;
  /** How often the relay had to wait for an ack. */
  pauses = 0;

  constructor(
    /** Called when the relay first has to wait, with the bytes then unacknowledged. */
    private readonly onFirstPause: (unacked: number) => void = () => {},
    private readonly windowBytes = RELAY_WINDOW_BYTES,
  ) {}

  get unacked(): number {
    return this.sentBytes - this.ackedBytes;
  }

  /** Bytes sent to the queen so far, and the offset it acknowledged. */
  get sent(): number {
    return this.sentBytes;
  }

  get acked(): number {
    return this.ackedBytes;
  }

  get full(): boolean {
    return this.unacked >= this.windowBytes;
  }

  /** `bytes` more of the answer went to the queen. */
  add(bytes: number): void {
    this.sentBytes += bytes;
    this.maxUnacked = Math.max(this.maxUnacked, this.unacked);
  }

  /** The queen's client pulled the body up to byte `offset`; an offset past what was sent, or behind the last ack, moves nothing back. */
  ack(offset: number): void {
    this.ackedBytes = Math.min(this.sentBytes, Math.max(this.ackedBytes, offset));
    if (!this.full) this.wake?.();
  }

  /** Resolves once the window has room again, or at once when it has room or `signal` aborts. */
  async open(signal: AbortSignal): Promise<void> {
    if (!this.full || signal.aborted) return;
    this.pauses += 1;
    if (this.pauses === 1) this.onFirstPause(this.unacked);
    await new Promise<void>((resolve) => {
      const done = () => {
        this.wake = undefined;
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.wake = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
