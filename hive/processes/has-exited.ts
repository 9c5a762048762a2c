// Whether a process is gone, for stop-process's wait between SIGTERM and SIGKILL.
import { readFile } from "node:fs/promises";

/** Whether the process is gone (or a zombie its parent has yet to reap, which is as good). */
export async function hasExited(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
  if (process.platform !== "linux") return false;
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // Field 3, after the parenthesised command name (which may itself hold spaces or parens).
  return stat === "" || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
}
