// procStatFields on this machine's /proc: this process's fields (state, parent), none for a pid
// that does not exist, and the zombie check on a state.
import { describe, expect, it } from "vitest";
import { isZombieStat, procStatFields } from "./proc-stat.js";

describe.runIf(process.platform === "linux")("procStatFields", () => {
  it("reads this process's state and parent, and nothing for a pid that does not exist", () => {
    const fields = procStatFields(process.pid);
    expect(fields?.[0]).toMatch(/^[RSD]$/);
    expect(Number(fields?.[1])).toBe(process.ppid);
    expect(isZombieStat(fields ?? [])).toBe(false);
    expect(procStatFields(2 ** 22 + 1)).toBeUndefined(); // above Linux's pid_max
  });

  it("calls state Z a zombie", () => {
    expect(isZombieStat(["Z", "1"])).toBe(true);
    expect(isZombieStat([])).toBe(false);
  });
});
