// HiveKeeper's rule for npm start's hive: an exit is followed by a new hive, a stop by none, and
// too many exits within the window, or one the queen's refusal caused, by giving up. The hives here are stand-ins that exit when told;
// test/node/npm-start.test.ts kills the real one.
import { describe, expect, it } from "vitest";
import { HiveKeeper } from "../../scripts/local-cloud/hive-keeper.js";
import type { HiveExit, HiveProcess } from "../../scripts/local-cloud/hive-process.js";
import { waitUntil } from "./local-cloud.js";

/** A hive process that exits when `exit` is called (or stopped). */
function standIn(pid: number): HiveProcess & { exit: (how: HiveExit) => void; stops: number } {
  let exit: (how: HiveExit) => void = () => {};
  const exited = new Promise<HiveExit>((resolve) => (exit = resolve));
  const hive = {
    pid,
    welcomed: Promise.resolve(),
    workersAtStart: [],
    exitCode: null,
    exited,
    stops: 0,
    exit,
    async stop() {
      hive.stops += 1;
      exit({ exitCode: 0, signal: undefined });
    },
  };
  return hive;
}

function keeperOf(first: ReturnType<typeof standIn>, maxRestarts = 2) {
  const started: Array<ReturnType<typeof standIn>> = [];
  const lines: string[] = [];
  const givenUp: string[] = [];
  const keeper = new HiveKeeper(first, {
    start: () => {
      const next = standIn(first.pid + started.length + 1);
      started.push(next);
      return next;
    },
    log: (line) => lines.push(line),
    giveUp: (reason) => givenUp.push(reason),
    maxRestarts,
    delayMs: 1,
  });
  return { keeper, started, lines, givenUp };
}

describe("npm start's hive keeper", () => {
  it("starts a hive again when it exits, saying how it exited, and the new one is the one it keeps", async () => {
    const first = standIn(100);
    const { keeper, started, lines } = keeperOf(first);
    first.exit({ exitCode: undefined, signal: "SIGKILL" });
    await waitUntil(() => started.length === 1, 2000, "a new hive");
    expect(lines).toEqual(["the hive (pid 100) exited killed by SIGKILL; starting it again in 0.001 s (its workers re-attach)"]);
    expect(keeper.hive).toBe(started[0]);
  });

  it("starts none again after stop, and stops the one running", async () => {
    const first = standIn(200);
    const { keeper, started } = keeperOf(first);
    await keeper.stop();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(first.stops).toBe(1);
    expect(started).toEqual([]);
  });

  it("gives up, naming the exit, once the hive exits more often than it may be restarted within the window", async () => {
    const first = standIn(300);
    const { started, givenUp } = keeperOf(first, 2);
    first.exit({ exitCode: 1, signal: undefined });
    await waitUntil(() => started.length === 1, 2000, "a first restart");
    started[0]!.exit({ exitCode: 1, signal: undefined });
    await waitUntil(() => started.length === 2, 2000, "a second restart");
    started[1]!.exit({ exitCode: 7, signal: undefined });
    await waitUntil(() => givenUp.length === 1, 2000, "the keeper to give up");
    expect(givenUp[0]).toBe("the hive exited with exit status 7 (3 exits within 60 s); not starting it again");
    expect(started).toHaveLength(2);
  });

  it("gives up at once, naming the queen's refusal, when the hive exits because the queen refused its token", async () => {
    const first = standIn(400);
    const { started, givenUp, lines } = keeperOf(first);
    first.exit({ exitCode: 3, signal: undefined, refused: "hive token revoked" });
    await waitUntil(() => givenUp.length === 1, 2000, "the keeper to give up");
    expect(givenUp[0]).toBe(
      "the queen refused the hive (hive token revoked), so it stopped; starting it again with the same token would be refused too. " +
        "npm start registers its hive afresh on every start: run it again to serve with a new token",
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(started).toEqual([]);
    expect(lines).toEqual([]);
  });
});
