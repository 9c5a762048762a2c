// Counts the CPU cores worth one generation thread each, for the worker's default `--threads`:
// llama.cpp's matrix maths gains nothing from a core's second hyperthread and loses when threads
// outnumber the CPUs it may run on.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/**
 * Physical cores, capped by the CPUs this process may use (affinity, cgroup quota). Linux lists
 * each logical CPU in /proc/cpuinfo with its package ("physical id") and "core id"; a distinct pair
 * is one physical core. Elsewhere, or when the file says nothing useful, every usable CPU counts.
 */
export function physicalCoreCount(): number {
  const usable = availableParallelism();
  const physical = linuxPhysicalCores();
  return physical === undefined ? usable : Math.max(1, Math.min(physical, usable));
}

function linuxPhysicalCores(): number | undefined {
  let cpuinfo: string;
  try {
    cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return undefined;
  }
  const cores = new Set<string>();
  // Processors are separated by blank lines; ARM kernels list no core ids at all.
  for (const processor of cpuinfo.split(/\n\s*\n/)) {
    const pkg = /^physical id\s*:\s*(\d+)/m.exec(processor)?.[1];
    const core = /^core id\s*:\s*(\d+)/m.exec(processor)?.[1];
    if (pkg !== undefined && core !== undefined) cores.add(`${pkg}:${core}`);
  }
  return cores.size > 0 ? cores.size : undefined;
}
