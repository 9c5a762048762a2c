// Whether a process is gone, for stop-process's wait between SIGTERM and SIGKILL.
import { isZombieStat, procStatFields } from "../../shared/proc-stat.js";
import { isZombieByPs, type ProcessTableContext } from "./process-table.js";

/** Whether the process is gone (or a zombie its parent has yet to reap, which is as good). */
export async function hasExited(pid: number, context: ProcessTableContext = {}): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
  switch (context.platform ?? process.platform) {
    case "linux": {
      const fields = procStatFields(pid);
      return fields === undefined || isZombieStat(fields);
    }
    // Windows has no zombies: Node's kill(pid, 0) there already fails for a process that exited.
    case "win32":
      return false;
    default:
      return isZombieByPs(pid, context);
  }
}
