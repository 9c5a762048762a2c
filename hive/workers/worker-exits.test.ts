// The hive's watch for workers that end without a word: real processes, killed for real.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../../shared/wait-until.js";
import { fakeHeartbeat } from "../../test/support/fake-heartbeat.js";
import { type WorkerExit, WorkerExits } from "./worker-exits.js";

let logDir: string;
const processes: ChildProcess[] = [];
let watch: WorkerExits | undefined;

beforeAll(async () => {
  logDir = await mkdtemp(path.join(tmpdir(), "rbee-exits-"));
});

afterEach(() => {
  watch?.stop();
  for (const child of processes.splice(0)) child.kill("SIGKILL");
});

afterAll(async () => {
  await rm(logDir, { recursive: true, force: true });
});

/** A process that runs until killed, standing in for a worker. */
async function runningProcess(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  processes.push(child);
  await new Promise((resolve, reject) => child.once("spawn", resolve).once("error", reject));
  if (child.pid === undefined) throw new Error("no pid");
  return child.pid;
}

function watching(): { exits: WorkerExit[]; watch: WorkerExits } {
  const exits: WorkerExit[] = [];
  watch = new WorkerExits({ logDir, pollMs: 20, onExit: (exit) => exits.push(exit) });
  return { exits, watch };
}

/** Long enough for many polls: what has not been reported by then will not be. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe("WorkerExits", () => {
  it("reports a serving worker whose process is killed, once, with what its log says went wrong", async () => {
    const pid = await runningProcess();
    const lines = [
      { level: "warn", msg: "an old warning" },
      { level: "error", msg: "CUDA error: out of memory" },
      { event: "ready", port: 1 },
      { level: "info", msg: "POST /v1/chat/completions 200 (answered)" },
    ].map((line) => JSON.stringify(line));
    await writeFile(path.join(logDir, "wrk_killed1.log"), `${lines.join("\n")}\nggml_abort: out of memory\n`);
    const { exits, watch } = watching();
    watch.observe(fakeHeartbeat({ workerId: "wrk_killed1", pid }));
    await settle();
    expect(exits).toEqual([]);

    process.kill(pid, "SIGKILL");
    await waitUntil(() => exits.length > 0, 5_000, "the exit to be reported");
    await settle();
    expect(exits).toEqual([
      {
        workerId: "wrk_killed1",
        pid,
        detail: `worker process ${pid} is gone: an old warning | CUDA error: out of memory | ggml_abort: out of memory (log: ${path.join(logDir, "wrk_killed1.log")})`,
      },
    ]);
  });

  it("reports nothing for a worker that said it stopped, one the hive stops itself (draining first), or one still loading", async () => {
    const [stopped, released, loading] = [await runningProcess(), await runningProcess(), await runningProcess()];
    const { exits, watch } = watching();
    watch.observe(fakeHeartbeat({ workerId: "wrk_stopped1", pid: stopped }));
    watch.observe(fakeHeartbeat({ workerId: "wrk_stopped1", pid: stopped, state: "stopped" }));
    watch.observe(fakeHeartbeat({ workerId: "wrk_released1", pid: released }));
    const stopOver = watch.release("wrk_released1");
    // On SIGTERM a worker drains, and says so, before it stops or its grace ends in SIGKILL.
    watch.observe(fakeHeartbeat({ workerId: "wrk_released1", pid: released, state: "draining" }));
    watch.observe(fakeHeartbeat({ workerId: "wrk_loading1", pid: loading, state: "loading", loadProgress: 0.5 }));
    for (const pid of [stopped, released, loading]) process.kill(pid, "SIGKILL");
    await settle();
    stopOver();
    expect(exits).toEqual([]);
  });

  it("watches a worker again once a stop of it is over and it still beats (the stop failed)", async () => {
    const pid = await runningProcess();
    const { exits, watch } = watching();
    watch.observe(fakeHeartbeat({ workerId: "wrk_survivor1", pid }));
    watch.release("wrk_survivor1")();
    watch.observe(fakeHeartbeat({ workerId: "wrk_survivor1", pid }));
    process.kill(pid, "SIGKILL");
    await waitUntil(() => exits.length > 0, 5_000, "the exit to be reported");
    expect(exits.map((exit) => exit.workerId)).toEqual(["wrk_survivor1"]);
  });

  it("leaves a child to its exit event, which reports it with its status, once", async () => {
    const pid = await runningProcess();
    const { exits, watch } = watching();
    watch.childExited("wrk_child1", pid, "not watched yet: ignored");
    watch.observe(fakeHeartbeat({ workerId: "wrk_child1", pid, state: "busy" }));
    watch.adoptChild("wrk_child1");
    process.kill(pid, "SIGKILL");
    // The poll sees the process gone, but a child's exit event says more: it waits for that.
    await settle();
    expect(exits).toEqual([]);
    watch.childExited("wrk_child1", pid + 1, "another process of that id: ignored");
    watch.childExited("wrk_child1", pid, "worker exited (SIGKILL)");
    watch.childExited("wrk_child1", pid, "reported already: ignored");
    await settle();
    // Its log holds only routine lines (here none at all): it was killed from outside.
    expect(exits).toEqual([
      { workerId: "wrk_child1", pid, detail: `worker exited (SIGKILL): no warning or error at the end of its log (log: ${path.join(logDir, "wrk_child1.log")})` },
    ]);
  });

  it("reports nothing once stopped", async () => {
    const pid = await runningProcess();
    const { exits, watch } = watching();
    watch.observe(fakeHeartbeat({ workerId: "wrk_late1", pid }));
    watch.stop();
    watch.observe(fakeHeartbeat({ workerId: "wrk_late1", pid }));
    process.kill(pid, "SIGKILL");
    await settle();
    expect(exits).toEqual([]);
  });
});
