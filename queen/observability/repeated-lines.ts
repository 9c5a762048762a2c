// A log line said once a while, not once per request: a burst of requests for a model no hive
// can start (a hundred clients retrying) would otherwise print the same refusal a hundred times,
// and bury what else the queen says.
import { BoundedMap } from "../../shared/bounded-map.js";

/** How long the same line stays quiet after it was said, ms. */
const QUIET_MS = 60_000;
/** Lines remembered at most (the oldest forgotten first): models and refusals are few. */
const REMEMBERED_LINES = 1_000;

export class RepeatedLines {
  private readonly saidAtMs = new BoundedMap<string, number>(REMEMBERED_LINES);

  constructor(private readonly quietMs = QUIET_MS) {}

  /** Whether `line` is to be said now: not said within the quiet time before `nowMs`. */
  mayRepeat(line: string, nowMs: number): boolean {
    const saidAt = this.saidAtMs.get(line);
    if (saidAt !== undefined && nowMs - saidAt < this.quietMs) return false;
    this.saidAtMs.set(line, nowMs);
    return true;
  }
}
