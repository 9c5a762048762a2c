// Whether a process is gone, for stop-process's wait between SIGTERM and SIGKILL.
import { readFile } from "node:fs/promises";
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
      const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
      // Field 3, after the parenthesised command name (which may itself hold spaces or parens).
      return stat === "" || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
    }
    // Windows has no zombies: Node's kill(pid, 0) there already fails for a process that exited.
    case "win32":
      return false;
    default:
      return isZombieByPs(pid, context);
  }
}
