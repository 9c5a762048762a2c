// Keeps a recent figure of GPU memory in use for heartbeats. llama's getVramState is async while
// heartbeats are built synchronously, so the figure is sampled every interval instead of read.
import type { Llama } from "node-llama-cpp";

export class VramSampler {
  private usedBytes: number | null = null;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly llama: Llama,
    intervalMs: number,
  ) {
    // Without a GPU there is nothing to sample; the figure stays null.
    if (llama.gpu === false) return;
    this.timer = setInterval(() => void this.sample(), intervalMs);
    // Sampling alone must not keep a worker that is otherwise done from exiting.
    this.timer.unref();
    void this.sample();
  }

  /** GPU memory in use on the device, in bytes, as last sampled; null without a GPU or before the first sample. */
  get vramUsedBytes(): number | null {
    return this.usedBytes;
  }

  /** Stops sampling; safe to call twice. */
  stop(): void {
    clearInterval(this.timer);
  }

  private async sample(): Promise<void> {
    try {
      this.usedBytes = (await this.llama.getVramState()).used;
    } catch {
      // A disposed backend or a driver hiccup: keep the last figure rather than fail a heartbeat.
    }
  }
}
