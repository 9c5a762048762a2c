// The 1-, 5- and 15-minute load averages as the benchmarks print them before and after their runs:
// above the core count, other processes are competing for the CPU and single runs vary widely.
import { loadavg } from "node:os";

export function formatLoadAverage(): string {
  return loadavg()
    .map((load) => load.toFixed(2))
    .join(" ");
}
