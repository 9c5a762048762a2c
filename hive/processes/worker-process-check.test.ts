// checkWorkerProcess and findWorkerProcesses against real processes: a catalog worker counts only
// when its command line starts the catalog entry (node + bundle, or the native binary itself).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkWorkerProcess, findWorkerProcesses, type WorkerInstallations } from "./worker-process-check.js";

/** A script that idles, then exits: long enough for any test, short if a kill is missed. */
const IDLE = "setTimeout(() => {}, 30000);\n";

let dir = "";
let installations: WorkerInstallations;
let bundle = "";
let outsideScript = "";

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-worker-check-"));
  installations = { workerCatalogRoot: path.join(dir, "workers") };
  bundle = path.join(installations.workerCatalogRoot, "cpu-llm-worker-rbee-v0.1.0-linux", "worker.mjs");
  await mkdir(path.dirname(bundle), { recursive: true });
  await writeFile(bundle, IDLE);
  outsideScript = path.join(dir, "idle.mjs");
  await writeFile(outsideScript, IDLE);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill("SIGKILL");
});

function start(command: string, args: string[]): number {
  const child = spawn(command, args, { stdio: "ignore" });
  started.push(child);
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  return child.pid;
}

describe("checkWorkerProcess", () => {
  it("vouches for node running a catalog bundle with the expected worker id", async () => {
    const pid = start(process.execPath, [bundle, "--model", "/m.gguf", "--worker-id", "wrk_a"]);
    expect(await checkWorkerProcess(pid, "wrk_a", installations)).toEqual({ ok: true });
    expect(await checkWorkerProcess(pid, "wrk_b", installations)).toEqual({ ok: false, reason: `pid ${pid} is an rbee worker, but not wrk_b`, running: true });
  });

  it("vouches for a native worker binary started from inside the catalog", async () => {
    // A link to node inside the catalog stands in for a native binary: argv[0] is the link's path.
    const native = path.join(installations.workerCatalogRoot, "cpu-llm-worker-rbee-v0.2.0-linux", "llm-worker");
    await mkdir(path.dirname(native), { recursive: true });
    await symlink(process.execPath, native);
    const pid = start(native, [outsideScript, "--worker-id", "wrk_n"]);
    expect(await checkWorkerProcess(pid, "wrk_n", installations)).toEqual({ ok: true });
  });

  it("refuses a catalog path that is an argument rather than the entry", async () => {
    const evalPid = start(process.execPath, ["-e", IDLE, bundle, "--worker-id", "wrk_a"]);
    const scriptPid = start(process.execPath, [outsideScript, bundle, "--worker-id", "wrk_a"]);
    for (const pid of [evalPid, scriptPid]) {
      expect(await checkWorkerProcess(pid, "wrk_a", installations)).toEqual({
        ok: false,
        reason: `pid ${pid} is not running an rbee worker from ${installations.workerCatalogRoot}`,
        running: true,
      });
    }
  });

  it("refuses a catalog file run by an interpreter other than node", async () => {
    const shellScript = path.join(path.dirname(bundle), "idle.sh");
    await writeFile(shellScript, "sleep 30\n");
    const pid = start("sh", [shellScript, "--worker-id", "wrk_a"]);
    expect(await checkWorkerProcess(pid, "wrk_a", installations)).toMatchObject({ ok: false, reason: expect.stringContaining("not running an rbee worker") });
  });

  it("refuses the hive's own pid and init without looking further", async () => {
    expect(await checkWorkerProcess(process.pid, "wrk_a", installations)).toMatchObject({ ok: false, reason: expect.stringContaining("the hive itself") });
    expect(await checkWorkerProcess(1, "wrk_a", installations)).toMatchObject({ ok: false });
  });
});

describe("findWorkerProcesses", () => {
  it("finds catalog workers with their flags and skips processes that only mention the catalog", async () => {
    const worker = start(process.execPath, [bundle, "--model", "/m.gguf", "--worker-id", "wrk_f", "--hive-channel", "unix:/x.sock"]);
    const mentioner = start(process.execPath, [outsideScript, bundle, "--worker-id", "wrk_g"]);
    const found = await findWorkerProcesses(installations);
    expect(found).toEqual([{ pid: worker, workerId: "wrk_f", modelPath: "/m.gguf", hiveChannel: "unix:/x.sock" }]);
    expect(found.map((each) => each.pid)).not.toContain(mentioner);
  });
});
