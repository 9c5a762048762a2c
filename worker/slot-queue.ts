// Hands the engine's generation slots (one context sequence each) to requests: first come, first
// served, with a short bounded wait list. A request that finds several slots free may choose among
// them (the engine picks the one that holds most of its prompt already, ./prompt-slot.ts); a slot
// freed while requests wait goes to the first of them. A request whose client leaves while waiting gives up its
// place at once, and one that arrives to a full wait list is refused with 503 and Retry-After.
import { RbeeError } from "../shared/errors.js";

/** A slot lent to one request; call `release` once to hand the slot to the next waiter. */
export interface SlotLease<Slot> {
  slot: Slot;
  release: () => void;
}

interface Waiter<Slot> {
  grant: (lease: SlotLease<Slot>) => void;
  reject: (reason: unknown) => void;
}

export interface SlotQueueOptions {
  /** Requests that may wait for a slot; one more is refused. 0 refuses whenever every slot is busy. */
  maxQueue: number;
  /** Seconds a refused client is told to wait before retrying. */
  retryAfterSeconds: number;
  /** Called whenever `busySlots` or `waiting` changes, so heartbeats can report ready ⇄ busy. */
  onChange?: () => void;
}

/** Which of the free slots a request takes: an index into `free`, which runs from the slot released longest ago to the latest; 0 when none is given. */
export type SlotChoice<Slot> = (free: readonly Slot[]) => number;

export class SlotQueue<Slot> {
  /** From the slot released longest ago to the latest. */
  private readonly free: Slot[];
  private readonly waiters: Array<Waiter<Slot>> = [];
  private closedReason: unknown = undefined;

  constructor(
    private readonly slots: readonly Slot[],
    private readonly options: SlotQueueOptions,
  ) {
    this.free = [...slots];
  }

  get total(): number {
    return this.slots.length;
  }

  get busySlots(): number {
    return this.slots.length - this.free.length;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Resolves with a lease once a slot is free; rejects with `signal.reason` if aborted first, and
   * with a 503 at once when the wait list is full.
   */
  acquire(signal?: AbortSignal, choose?: SlotChoice<Slot>): Promise<SlotLease<Slot>> {
    if (this.closedReason !== undefined) return Promise.reject(this.closedReason);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const slot = this.waiters.length === 0 ? this.takeFree(choose) : undefined;
    if (slot !== undefined) {
      this.changed();
      return Promise.resolve(this.lease(slot));
    }
    if (this.waiters.length >= this.options.maxQueue) return Promise.reject(this.queueFull());
    return new Promise<SlotLease<Slot>>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        this.changed();
        reject(signal?.reason);
      };
      const waiter: Waiter<Slot> = {
        grant: (lease) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(lease);
        },
        reject: (reason) => {
          signal?.removeEventListener("abort", onAbort);
          reject(reason);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
      this.changed();
    });
  }

  /** Rejects every waiter and every later `acquire` with `reason`; slots already lent stay lent. */
  close(reason: unknown): void {
    this.closedReason ??= reason;
    const rejected = this.waiters.splice(0);
    for (const waiter of rejected) waiter.reject(this.closedReason);
    if (rejected.length > 0) this.changed();
  }

  /** The chosen free slot (the one released longest ago, unless `choose` says otherwise), taken from the free list. */
  private takeFree(choose: SlotChoice<Slot> | undefined): Slot | undefined {
    if (this.free.length === 0) return undefined;
    const chosen = choose?.(this.free) ?? 0;
    const index = Number.isInteger(chosen) && chosen >= 0 && chosen < this.free.length ? chosen : 0;
    return this.free.splice(index, 1)[0];
  }

  private lease(slot: Slot): SlotLease<Slot> {
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // The slot passes straight to the next waiter, so the busy count stays; the queue shrinks.
      if (next) next.grant(this.lease(slot));
      else this.free.push(slot);
      this.changed();
    };
    return { slot, release };
  }

  private queueFull(): RbeeError {
    const { maxQueue, retryAfterSeconds } = this.options;
    return new RbeeError(
      503,
      "worker_busy",
      `All ${this.total} slot(s) are busy and ${maxQueue} request(s) already wait; retry in ${retryAfterSeconds} s`,
      { retryAfterSeconds },
    );
  }

  private changed(): void {
    this.options.onChange?.();
  }
}
