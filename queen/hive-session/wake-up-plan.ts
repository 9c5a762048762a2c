// When a HiveSession must next look at its hive: a socket gone silent, a worker that stopped
// beating, an offline hive's grace running out, hive facts waiting for their D1 write.
//
// The first two move with every frame the hive sends. Kept by the stored alarm alone, they made
// every hive's object run an alarm (a storage write and a wake-up) about every 12 s, for nothing
// but finding its hive alive: at 2,000 hives ~160 alarm runs a second, which cost the local
// queen's one thread ~20% of a core and made the tail of every request's wait. While workers
// beat, their frames keep the object awake anyway (it hibernates only after seconds of quiet), so
// those deadlines are kept by a timer in memory, exactly, and the stored alarm is only a backstop
// ALARM_BACKSTOP_MS later, for an object evicted or reset in between. With no worker beating the
// object may hibernate, and a pending timer would keep it awake (billed): the alarm keeps the
// exact time then, as before.

/** How long after a moving deadline the stored alarm fires, when a timer in memory keeps it. */
export const ALARM_BACKSTOP_MS = 60_000;

export interface WakeUpDeadlines {
  /** Deadlines that every frame of the hive pushes back (socket silence, worker expiry), ms. */
  moving: readonly number[];
  /** Deadlines no frame moves (an offline hive's grace, a waiting D1 write), ms. */
  fixed: readonly number[];
  /** Whether any worker of the hive beats: its frames keep the object awake. */
  workersBeating: boolean;
}

export interface WakeUpPlan {
  /** When the timer in memory runs the checks; undefined: no timer. */
  timerAtMs: number | undefined;
  /** When the stored alarm must fire at the latest; undefined: nothing is due. */
  alarmAtMs: number | undefined;
}

export function planWakeUps({ moving, fixed, workersBeating }: WakeUpDeadlines): WakeUpPlan {
  const firstMoving = moving.length > 0 ? Math.min(...moving) : undefined;
  const timerAtMs = workersBeating ? firstMoving : undefined;
  const alarms = [...fixed];
  if (firstMoving !== undefined) alarms.push(timerAtMs === undefined ? firstMoving : firstMoving + ALARM_BACKSTOP_MS);
  return { timerAtMs, alarmAtMs: alarms.length > 0 ? Math.min(...alarms) : undefined };
}

/**
 * Whether the stored alarm must be (re)written to fire at `dueAtMs`: there is none, it is past
 * (the one running now), or it fires later. One due sooner stays: it only runs the checks early,
 * and leaving it saves the write.
 */
export function alarmNeedsWrite(currentAtMs: number | null, dueAtMs: number, nowMs: number): boolean {
  return currentAtMs === null || currentAtMs <= nowMs || currentAtMs > dueAtMs;
}
