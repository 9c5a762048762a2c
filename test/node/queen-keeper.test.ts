// QueenKeeper's rule for npm start's queen: a workerd that is gone is followed by a queen started
// again, a stop by none (and the running one stopped, even mid-restart), too many exits within the
// window by giving up, and a queen that does not start again by giving up at once. The queens here
// are stand-ins whose "workerd" is alive until the test says it died; test/node/npm-start.test.ts
// kills the real one.
import { describe, expect, it } from "vitest";
import { QueenKeeper, type RunningQueen } from "../../scripts/local-cloud/queen-keeper.js";
import { waitUntil } from "./local-cloud.js";

/** A queen whose workerd has pid `pid`; `disposals` counts its dispose() calls. */
function standIn(pid: number): RunningQueen & { disposals: number } {
  const running = {
    pids: [pid],
    disposals: 0,
    queen: {
      url: "http://127.0.0.1:7833",
      dispose: async () => {
        running.disposals += 1;
      },
    },
  };
  return running;
}

function keeperOf(first: ReturnType<typeof standIn>, options: { maxRestarts?: number; failStart?: boolean; startDelayMs?: number } = {}) {
  const dead = new Set<number>();
  const started: Array<ReturnType<typeof standIn>> = [];
  const lines: string[] = [];
  const givenUp: string[] = [];
  const keeper = new QueenKeeper(first, {
    start: async () => {
      await new Promise((resolve) => setTimeout(resolve, options.startDelayMs ?? 0));
      if (options.failStart) throw new Error("port 7833 is in use");
      const next = standIn(first.pids[0]! + started.length + 1);
      started.push(next);
      return next;
    },
    log: (line) => lines.push(line),
    giveUp: (reason) => givenUp.push(reason),
    maxRestarts: options.maxRestarts ?? 2,
    delayMs: 1,
    pollMs: 5,
    isAlive: (pid) => !dead.has(pid),
  });
  return { keeper, dead, started, lines, givenUp };
}

describe("npm start's queen keeper", () => {
  it("starts the queen again once its workerd is gone, after letting go of the dead one, and keeps the new one", async () => {
    const first = standIn(100);
    const { keeper, dead, started, lines } = keeperOf(first);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(started).toEqual([]); // alive: left alone
    dead.add(100);
    await waitUntil(() => lines.length === 2, 2000, "a new queen");
    expect(lines).toEqual([
      "the queen's workerd (pid 100) exited; starting the queen again in 0.001 s, on the same port and state (the hive reconnects)",
      "the queen is back on http://127.0.0.1:7833",
    ]);
    expect(first.disposals).toBe(1);
    expect(keeper.queen).toBe(started[0]?.queen);
    await keeper.stop();
    expect(started[0]?.disposals).toBe(1);
  });

  it("stops the queen and starts none again after stop, and stops the one a restart under way starts", async () => {
    const first = standIn(200);
    const { keeper, started } = keeperOf(first);
    await keeper.stop();
    expect(first.disposals).toBe(1);

    const second = standIn(300);
    const restarting = keeperOf(second, { startDelayMs: 50 });
    restarting.dead.add(300);
    await waitUntil(() => restarting.lines.length === 1, 2000, "the restart to begin");
    await restarting.keeper.stop();
    expect(restarting.started).toHaveLength(1);
    expect(restarting.started[0]?.disposals).toBe(1); // started during the stop, and stopped with it
    expect(started).toEqual([]);
  });

  it("gives up once workerd exits more often than it may be restarted within the window, and when the queen does not start again", async () => {
    const first = standIn(400);
    const { dead, started, givenUp } = keeperOf(first, { maxRestarts: 1 });
    dead.add(400);
    await waitUntil(() => started.length === 1, 2000, "a first restart");
    dead.add(started[0]!.pids[0]!);
    await waitUntil(() => givenUp.length === 1, 2000, "the keeper to give up");
    expect(givenUp).toEqual(["the queen's workerd (pid 401) exited (2 exits within 60 s); not starting it again"]);

    const failing = keeperOf(standIn(500), { failStart: true });
    failing.dead.add(500);
    await waitUntil(() => failing.givenUp.length === 1, 2000, "the keeper to give up on a failed start");
    expect(failing.givenUp).toEqual(["the queen did not start again: port 7833 is in use"]);
  });
});
