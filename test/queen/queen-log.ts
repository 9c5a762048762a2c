// The queen's log lines in a test: the queen runs in the test's isolate, so its console.log is
// this one's. Kept here rather than printed, until the test ends.
import { onTestFinished, vi } from "vitest";

/** The lines the queen logs from now until the test ends (each call's arguments joined by spaces). */
export function captureQueenLog(): string[] {
  const lines: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
  onTestFinished(() => spy.mockRestore());
  return lines;
}
