// spawnWorker with a real process standing in for a worker: it writes the environment and the
// arguments it got to its log, then says it listens. The worker's secret must be in the
// environment and nowhere in the arguments (`ps` shows those to every user), and none of the
// hive's credentials may reach it.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WORKER_SECRET_ENV } from "../../shared/protocol/worker-launch.js";
import { hasExited } from "./has-exited.js";
import { spawnWorker } from "./spawn-worker.js";

const SECRET = "f".repeat(64);

/** Says what it got on stderr (the log), prints the listening line, then idles until killed. */
const STAND_IN = `
const port = Number(process.argv[process.argv.indexOf("--port") + 1]);
process.stderr.write("GOT " + JSON.stringify({ env: process.env, argv: process.argv }) + "\\n");
process.stdout.write(JSON.stringify({ event: "listening", port }) + "\\n");
setInterval(() => {}, 1000);
`;

/** Starts and never listens: a worker wedged before it could even open its port. */
const NEVER_LISTENS = `setInterval(() => {}, 1000);`;

let dir: string;
let pid: number | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-spawn-"));
  await writeFile(path.join(dir, "stand-in.cjs"), STAND_IN);
  await writeFile(path.join(dir, "never-listens.cjs"), NEVER_LISTENS);
});

afterEach(async () => {
  if (pid !== undefined) process.kill(pid, "SIGKILL");
  pid = undefined;
  await rm(dir, { recursive: true, force: true });
});

function options(script: string, workerId: string) {
  return {
    workerId,
    modelName: "tiny",
    modelPath: "/models/tiny.gguf",
    launch: { command: process.execPath, args: [path.join(dir, script)] },
    gpu: "cpu" as const,
    hiveChannel: "http://127.0.0.1:9",
    secret: SECRET,
    heartbeatIntervalMs: 1000,
    logDir: dir,
    log: () => {},
  };
}

/** The environment and arguments the stand-in wrote to its log. */
async function standInSaw(logFile: string): Promise<{ env: Record<string, string>; argv: string[] }> {
  const line = (await readFile(logFile, "utf8")).split("\n").find((text) => text.startsWith("GOT "));
  return JSON.parse(line?.slice("GOT ".length) ?? "{}") as { env: Record<string, string>; argv: string[] };
}

describe("spawnWorker", () => {
  it("resolves as soon as the worker listens, which it does before loading: the load is not its deadline", async () => {
    // The stand-in never loads anything and never heartbeats; listening is all spawnWorker waits for.
    const spawned = await spawnWorker({ ...options("stand-in.cjs", "wrk_listens1"), listenTimeoutMs: 30_000 });
    pid = spawned.pid;
    expect(await hasExited(spawned.pid)).toBe(false);
  });

  it("kills a worker that does not listen within the listen timeout, and says so", async () => {
    let logged = "";
    const spawning = spawnWorker({ ...options("never-listens.cjs", "wrk_mute1"), listenTimeoutMs: 300, log: (line) => (logged += line) });
    await expect(spawning).rejects.toMatchObject({
      code: "worker_start_timeout",
      message: expect.stringContaining("worker did not listen within 300 ms (it listens before loading its model)"),
    });
    // SIGKILLed: the hive notices the exit.
    await vi.waitFor(() => expect(logged).toContain("exited: SIGKILL"));
  });

  it("gives the worker its secret in the environment, never in its arguments, and none of the hive's credentials", async () => {
    process.env.RBEE_TEST_CLOUD_KEY = "credential-of-the-hive";
    try {
      const spawned = await spawnWorker(options("stand-in.cjs", "wrk_env1"));
      pid = spawned.pid;
      const got = await standInSaw(spawned.logFile);
      expect(got.env[WORKER_SECRET_ENV]).toBe(SECRET);
      expect(got.env.PATH).toBe(process.env.PATH);
      expect(got.env.RBEE_TEST_CLOUD_KEY).toBeUndefined();
      expect(got.argv.join(" ")).not.toContain(SECRET);
      expect(got.argv).toEqual(expect.arrayContaining(["--worker-id", "wrk_env1", "--port", String(spawned.port)]));
    } finally {
      delete process.env.RBEE_TEST_CLOUD_KEY;
    }
  });

  it("passes the hive's worker settings on as the worker's flags, and leaves out those it has none for", async () => {
    const readArgv = async (spawned: { logFile: string }) => (await standInSaw(spawned.logFile)).argv.join(" ");
    const set = await spawnWorker({ ...options("stand-in.cjs", "wrk_flags1"), threads: 3, parallel: 4, pollUs: 0 });
    pid = set.pid;
    const argv = await readArgv(set);
    expect(argv).toContain("--threads 3");
    expect(argv).toContain("--parallel 4");
    expect(argv).toContain("--poll-us 0");
    process.kill(set.pid, "SIGKILL");
    pid = undefined;
    const unset = await spawnWorker(options("stand-in.cjs", "wrk_flags2"));
    pid = unset.pid;
    expect(await readArgv(unset)).not.toMatch(/--threads|--parallel|--poll-us/);
  });
});
