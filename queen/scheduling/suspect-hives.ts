// Hives the spawner passes over for a while because something there just went wrong: a worker of
// the hive went silent (missed its heartbeats), or a request just failed on one of its workers.
// A SIGSTOPped or wedged hive keeps its socket open and its catalog listed until its own silence
// times out, three heartbeat intervals later, and its free memory looks as good as anyone's: a
// replacement started there meanwhile only fails again. The planner ranks a suspect hive after
// every other one where the model fits, and still uses it when nothing else fits: a suspicion is
// a guess, never a refusal. The scheduler owns one; memory only, like the rest of its state.

/**
 * How long a hive whose worker missed its heartbeats is passed over, ms. Its socket is dropped
 * within three heartbeat intervals (15 s by default) if the hive itself is frozen, and a hive
 * thawed or restarted is back within seconds: a minute covers both, and the queen's stop of a
 * wedged worker (WEDGED_WORKER_STOP_SECONDS, 60), which frees what it holds.
 */
export const SILENT_WORKER_SUSPECT_MS = 60_000;

export class SuspectHives {
  /** Hive name → until when it is passed over (Unix ms). */
  private readonly untilMs = new Map<string, number>();

  /** Passes `hiveName` over until `untilMs` (or longer, when it already is). */
  suspect(hiveName: string, untilMs: number): void {
    this.untilMs.set(hiveName, Math.max(untilMs, this.untilMs.get(hiveName) ?? 0));
  }

  /** The hives passed over at `nowMs`; the others are forgotten. */
  current(nowMs: number): ReadonlySet<string> {
    for (const [hiveName, until] of this.untilMs) if (until <= nowMs) this.untilMs.delete(hiveName);
    return new Set(this.untilMs.keys());
  }
}
