// spawnWorker with a real process standing in for a worker: it writes the environment and the
// arguments it got to its log, then says it listens. The worker's secret must be in the
// environment and nowhere in the arguments (`ps` shows those to every user), and none of the
// hive's credentials may reach it.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WORKER_SECRET_ENV } from "../../shared/protocol/worker-launch.js";
import { spawnWorker } from "./spawn-worker.js";

const SECRET = "f".repeat(64);

/** Says what it got on stderr (the log), prints the listening line, then idles until killed. */
const STAND_IN = `
const port = Number(process.argv[process.argv.indexOf("--port") + 1]);
process.stderr.write("GOT " + JSON.stringify({ env: process.env, argv: process.argv }) + "\\n");
process.stdout.write(JSON.stringify({ event: "listening", port }) + "\\n");
setInterval(() => {}, 1000);
`;

let dir: string;
let pid: number | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-spawn-"));
  await writeFile(path.join(dir, "stand-in.cjs"), STAND_IN);
});

afterEach(async () => {
  if (pid !== undefined) process.kill(pid, "SIGKILL");
  pid = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe("spawnWorker", () => {
  it("gives the worker its secret in the environment, never in its arguments, and none of the hive's credentials", async () => {
    process.env.RBEE_TEST_CLOUD_KEY = "credential-of-the-hive";
    try {
      const spawned = await spawnWorker({
        workerId: "wrk_env1",
        modelName: "tiny",
        modelPath: "/models/tiny.gguf",
        launch: { command: process.execPath, args: [path.join(dir, "stand-in.cjs")] },
        gpu: "cpu",
        hiveChannel: "http://127.0.0.1:9",
        secret: SECRET,
        heartbeatIntervalMs: 1000,
        logDir: dir,
        log: () => {},
      });
      pid = spawned.pid;
      const line = (await readFile(spawned.logFile, "utf8")).split("\n").find((text) => text.startsWith("GOT "));
      const got = JSON.parse(line?.slice("GOT ".length) ?? "{}") as { env: Record<string, string>; argv: string[] };
      expect(got.env[WORKER_SECRET_ENV]).toBe(SECRET);
      expect(got.env.PATH).toBe(process.env.PATH);
      expect(got.env.RBEE_TEST_CLOUD_KEY).toBeUndefined();
      expect(got.argv.join(" ")).not.toContain(SECRET);
      expect(got.argv).toEqual(expect.arrayContaining(["--worker-id", "wrk_env1", "--port", String(spawned.port)]));
    } finally {
      delete process.env.RBEE_TEST_CLOUD_KEY;
    }
  });
});
