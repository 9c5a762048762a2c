import { describe, expect, it } from "vitest";
import { TaskChain } from "../../queen/hive-session/task-chain.js";

describe("TaskChain", () => {
  it("runs tasks in order, and a task that fails is logged without stopping the ones after it", async () => {
    const ran: number[] = [];
    const errors: unknown[] = [];
    const chain = new TaskChain((error) => errors.push(error));
    void chain.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      ran.push(1);
    });
    const failed = chain.run(async () => {
      throw new Error("a JobSession call failed");
    });
    void chain.run(async () => {
      ran.push(3);
    });
    await expect(failed).resolves.toBeUndefined();
    await chain.idle();
    expect(ran).toEqual([1, 3]);
    expect(errors).toEqual([new Error("a JobSession call failed")]);
  });
});
