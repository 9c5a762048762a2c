// The CPU time processes have used, read from /proc (Linux; elsewhere there is none to read):
// the relay and streams benchmarks charge the queen's workerd and the hive the CPU each relayed
// request costs them, and the bare proxy's process what each proxied one costs it. On a small
// machine every millisecond of it is taken from the worker, so it bounds what a hop adds more
// plainly than latency does.
import { readdirSync, readFileSync } from "node:fs";
import { procStatFields } from "../../shared/proc-stat.js";

/** Clock ticks per second of /proc's times: USER_HZ, 100 on Linux. */
const TICKS_PER_SECOND = 100;

/** User plus system CPU time `pid` has used, ms; undefined when it cannot be read. */
export function processCpuMs(pid: number): number | undefined {
  const fields = procStatFields(pid);
  if (!fields) return undefined;
  // utime and stime: fields 14 and 15 of proc(5).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** This process's children whose command line contains `text` (e.g. the workerd Miniflare started). */
export function childPidsMatching(text: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  return entries.map(Number).filter((pid) => {
    const fields = procStatFields(pid);
    if (!fields || Number(fields[1]) !== process.pid) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(text);
    } catch {
      return false;
    }
  });
}

/**
 * Notes this process's children matching `text` now; the function returned gives those that have
 * appeared since (the workerd a Miniflare about to be started runs in, apart from any before it).
 */
export function newChildPidsMatching(text: string): () => number[] {
  const before = new Set(childPidsMatching(text));
  return () => childPidsMatching(text).filter((pid) => !before.has(pid));
}

/** A running count of the CPU a set of processes has used since it was made, ms. */
export class CpuMeter {
  private readonly start: Map<number, number>;

  constructor(private readonly pids: readonly number[]) {
    this.start = new Map(pids.map((pid) => [pid, processCpuMs(pid) ?? Number.NaN]));
  }

  /** CPU used since the meter was made, ms: NaN when a process could not be read. */
  elapsedMs(): number {
    return this.pids.reduce((sum, pid) => sum + (processCpuMs(pid) ?? Number.NaN) - (this.start.get(pid) ?? Number.NaN), 0);
  }
}

/**
 * CPU spent on each request or stream by the processes on its way, ms (NaN where /proc cannot be
 * read): the queen's workerd and the hive on a relayed one, the bare proxy's process on a proxied one.
 */
export interface PathCpu {
  queen: number;
  hive: number;
  proxy: number;
}

/** The processes of each path that costs any: the queen's workerd and the hive, and the bare proxy. */
export type PathProcesses = Record<keyof PathCpu, readonly number[]>;

/** Runs `phase` and charges the CPU each named set of processes spent in it to each of `count` requests or streams. */
export async function chargeCpu<Name extends string, T>(processes: Record<Name, readonly number[]>, count: number, phase: () => Promise<T>): Promise<{ result: T; cpu: Record<Name, number> }> {
  const names = Object.keys(processes) as Name[];
  const meters = names.map((name) => [name, new CpuMeter(processes[name])] as const);
  const result = await phase();
  return { result, cpu: Object.fromEntries(meters.map(([name, meter]) => [name, meter.elapsedMs() / count])) as Record<Name, number> };
}
