// When a HiveSession wakes to check its hive: a timer in memory for the deadlines every frame
// moves while workers beat, with the stored alarm a backstop after them; the alarm alone otherwise.
import { describe, expect, it } from "vitest";
import { ALARM_BACKSTOP_MS, alarmNeedsWrite, planWakeUps } from "../../queen/hive-session/wake-up-plan.js";

describe("planWakeUps", () => {
  it("keeps the moving deadlines in memory while workers beat, with the alarm a backstop after them", () => {
    expect(planWakeUps({ moving: [15_000, 12_000], fixed: [], workersBeating: true })).toEqual({ timerAtMs: 12_000, alarmAtMs: 12_000 + ALARM_BACKSTOP_MS });
  });

  it("keeps a fixed deadline on the alarm, exactly, when it comes before the backstop", () => {
    expect(planWakeUps({ moving: [12_000], fixed: [20_000], workersBeating: true })).toEqual({ timerAtMs: 12_000, alarmAtMs: 20_000 });
  });

  it("puts everything on the alarm, exactly, when no worker beats (the object may hibernate)", () => {
    expect(planWakeUps({ moving: [12_000], fixed: [90_000], workersBeating: false })).toEqual({ timerAtMs: undefined, alarmAtMs: 12_000 });
  });

  it("plans nothing when nothing is due", () => {
    expect(planWakeUps({ moving: [], fixed: [], workersBeating: false })).toEqual({ timerAtMs: undefined, alarmAtMs: undefined });
  });
});

describe("alarmNeedsWrite", () => {
  it("writes when there is no alarm, when the stored one is past, or when it fires later than due", () => {
    expect(alarmNeedsWrite(null, 5000, 1000)).toBe(true);
    expect(alarmNeedsWrite(900, 5000, 1000)).toBe(true);
    expect(alarmNeedsWrite(6000, 5000, 1000)).toBe(true);
  });

  it("leaves an alarm that fires sooner than due: it only runs the checks early", () => {
    expect(alarmNeedsWrite(3000, 5000, 1000)).toBe(false);
    expect(alarmNeedsWrite(5000, 5000, 1000)).toBe(false);
  });
});
