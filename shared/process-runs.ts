// Whether a process with a given pid still runs, for a lock or a record that names its holder's
// pid. A zombie does not: a SIGKILLed process lingers as one until its parent reaps it, and a
// reaper that never reaps (a Node PID 1 in a container) would keep it "running" for ever.
import { isZombieStat, procStatFields } from "./proc-stat.js";

/** Whether `pid` runs (EPERM: it does, as another user); a zombie, or no such process, does not. */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (process.platform !== "linux") return true;
  const fields = procStatFields(pid);
  return fields !== undefined && !isZombieStat(fields);
}
