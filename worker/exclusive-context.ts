// A llama.cpp context of its own, created on the first request that needs it (so a worker that
// never embeds or ranks never pays its memory) and used by one request at a time, with the same
// bounded wait list (and 503 past it) as the generation slots. The Embedder and the Ranker use it.
import { SlotQueue, type SlotQueueOptions } from "./slot-queue.js";

export interface ExclusiveContextOptions extends SlotQueueOptions {
  /** Tokens one input may have. */
  contextSize: number;
  threads: number;
}

export class ExclusiveContext<Context> {
  private context: Promise<Context> | undefined;
  /** One "slot": the context evaluates one request at a time. */
  private readonly turns: SlotQueue<"context">;

  constructor(
    private readonly create: () => Promise<Context>,
    options: SlotQueueOptions,
  ) {
    this.turns = new SlotQueue(["context"], options);
  }

  /** Requests waiting for their turn. */
  get waiting(): number {
    return this.turns.waiting;
  }

  /** Runs `work` on the context once it is this request's turn; leaving the queue if `signal` aborts first. */
  async use<Result>(signal: AbortSignal | undefined, work: (context: Context) => Promise<Result>): Promise<Result> {
    const lease = await this.turns.acquire(signal);
    try {
      return await work(await this.getContext());
    } finally {
      lease.release();
    }
  }

  /** Rejects waiting and later requests with `reason`; the context goes with the model. */
  close(reason: unknown): void {
    this.turns.close(reason);
  }

  private getContext(): Promise<Context> {
    if (this.context) return this.context;
    const creating = this.create();
    // A failed creation (out of memory) is retried by the next request rather than remembered.
    creating.catch(() => {
      if (this.context === creating) this.context = undefined;
    });
    this.context = creating;
    return creating;
  }
}
