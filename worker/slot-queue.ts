// A first-in-first-out queue for the engine's generation slots: each request waits its turn for a
// free slot, and a request whose client leaves while it waits gives up its place at once.

/** Call once to hand the slot to the next waiter. */
export type ReleaseSlot = () => void;

interface Waiter {
  grant: (release: ReleaseSlot) => void;
  reject: (reason: unknown) => void;
}

export class SlotQueue {
  private busy = 0;
  private readonly waiters: Waiter[] = [];
  private closedReason: unknown = undefined;

  constructor(
    readonly total: number,
    /** Called whenever `busy` changes, so heartbeats can report ready ⇄ busy. */
    private readonly onChange: () => void = () => {},
  ) {}

  get busySlots(): number {
    return this.busy;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves with a release function once a slot is free; rejects with `signal.reason` if aborted first. */
  acquire(signal?: AbortSignal): Promise<ReleaseSlot> {
    if (this.closedReason !== undefined) return Promise.reject(this.closedReason);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.busy < this.total && this.waiters.length === 0) return Promise.resolve(this.take());
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
        reject: (reason) => {
          signal?.removeEventListener("abort", onAbort);
          reject(reason);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Rejects every waiter and every later `acquire` with `reason`; slots already held stay held. */
  close(reason: unknown): void {
    this.closedReason ??= reason;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.closedReason);
  }

  private take(): ReleaseSlot {
    this.busy++;
    this.onChange();
    return this.releaser();
  }

  private releaser(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) {
        // The slot passes straight to the next waiter, so `busy` does not change.
        next.grant(this.releaser());
        return;
      }
      this.busy--;
      this.onChange();
    };
  }
}
