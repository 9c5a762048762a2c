// The facts about this machine that a benchmark's figures depend on (cores, CPU, Node, load), which
// bench/relay.ts and bench/streams.ts print first and store with their results.
import { availableParallelism, cpus, loadavg } from "node:os";
import { formatLoadAverage } from "./load-average.js";

export interface MachineFacts {
  cores: number;
  cpu: string;
  node: string;
  platform: string;
  /** The 1-, 5- and 15-minute load averages when the facts were taken. */
  loadAverage: number[];
}

export function machineFacts(): MachineFacts {
  return {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
  };
}

export function formatMachineFacts(facts: MachineFacts): string {
  return `machine: ${facts.cores} cores (${facts.cpu}), node ${facts.node}, ${facts.platform}, load average ${formatLoadAverage()}`;
}
