// Commands sent to a hive that wait for its answer frame (today: worker spawns), each with a
// deadline so a silent hive turns into an error instead of a hung request.

export type SpawnOutcome =
  | { ok: true; worker: { workerId: string; pid: number; port: number } }
  | { ok: false; error: { code: string; message: string } };

interface Waiter {
  settle: (outcome: SpawnOutcome) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class PendingCommands {
  private readonly waiters = new Map<string, Waiter>();

  wait(commandId: string, timeoutMs: number): Promise<SpawnOutcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(commandId);
        resolve({ ok: false, error: { code: "hive_timeout", message: `the hive did not answer within ${timeoutMs} ms` } });
      }, timeoutMs);
      this.waiters.set(commandId, { settle: resolve, timer });
    });
  }

  /** Delivers an answer; answers to unknown or timed-out commands are ignored. */
  settle(commandId: string, outcome: SpawnOutcome): void {
    const waiter = this.waiters.get(commandId);
    if (!waiter) return;
    clearTimeout(waiter.timer);
    this.waiters.delete(commandId);
    waiter.settle(outcome);
  }

  failAll(error: { code: string; message: string }): void {
    for (const commandId of [...this.waiters.keys()]) this.settle(commandId, { ok: false, error });
  }
}
