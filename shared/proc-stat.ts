// A process's /proc/<pid>/stat on Linux, split into the fields after its parenthesised command
// name, which may itself hold spaces or parens: fields[0] is the state (field 3 of proc(5)),
// fields[1] the parent pid, fields[11] and fields[12] the user and system CPU ticks. Read
// synchronously: /proc answers from memory. Undefined when there is no such process (or no /proc).
import { readFileSync } from "node:fs";

export function procStatFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** Whether /proc shows the process as a zombie (state Z): gone, its parent yet to reap it. */
export function isZombieStat(fields: readonly string[]): boolean {
  return fields[0]?.startsWith("Z") ?? false;
}
