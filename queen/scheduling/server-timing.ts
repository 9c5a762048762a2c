// The Server-Timing header of an inference response, in the standard syntax browsers' devtools
// and `curl -i` show: where the time went before the answer started (ms, one decimal).
import type { LeaseTiming } from "./contracts.js";

export interface ResponseTiming extends LeaseTiming {
  /**
   * The relay until the worker's response head, failed attempts' relays included; the waits for the
   * next worker after a failure are in queue, spawn and place, so the parts never overlap.
   */
  relayMs: number;
}

export function serverTiming(timing: ResponseTiming): string {
  const parts: Array<[string, number]> = [
    ["queue", timing.queueMs],
    ["spawn", timing.spawnMs],
    ["place", timing.placeMs],
    ["relay", timing.relayMs],
  ];
  return parts.map(([name, ms]) => `${name};dur=${Math.max(0, ms).toFixed(1)}`).join(", ");
}
