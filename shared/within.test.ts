import { describe, expect, it } from "vitest";
import { withinMs } from "./within.js";

describe("withinMs", () => {
  it("gives a value that comes in time, undefined for one that does not, and a rejection in time as it is", async () => {
    expect(await withinMs(Promise.resolve("soon"), 1000)).toBe("soon");
    expect(await withinMs(new Promise((resolve) => setTimeout(() => resolve("late"), 200)), 20)).toBeUndefined();
    await expect(withinMs(Promise.reject(new Error("refused")), 1000)).rejects.toThrow("refused");
  });
});
