// Reading command lines on each platform the hive runs on. Linux (/proc) and macOS (`ps`, which
// this Linux machine has too) run for real against a child process; Windows' PowerShell does not
// exist here, so its answer is given and what the hive asks and makes of it is checked.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hasExited } from "./has-exited.js";
import { listCommandLines, parsePsList, parseWindowsProcesses, type ProcessTableContext, readCommandLine, splitWindowsCommandLine } from "./process-table.js";
import { stopProcess } from "./stop-process.js";
import { checkWorkerProcess, findWorkerProcesses } from "./worker-process-check.js";

let dir = "";
let bundle = "";
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-ps-"));
  bundle = path.join(dir, "workers", "cpu-llm-worker-rbee-v0.1.0-macos", "worker.mjs");
  await mkdir(path.dirname(bundle), { recursive: true });
  // Ignores SIGTERM, as a worker stuck in a generation might: only a forced end stops it.
  await writeFile(bundle, "process.on('SIGTERM', () => {}); setTimeout(() => {}, 30000);\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill("SIGKILL");
});

async function startWorkerLike(workerId: string): Promise<{ pid: number; exited: Promise<void> }> {
  const child = spawn(process.execPath, [bundle, "--worker-id", workerId], { stdio: ["ignore", "ignore", "ignore"] });
  started.push(child);
  const { pid } = child;
  if (pid === undefined) throw new Error("could not start node");
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Until the process runs node (not the fork before exec), its command line is the parent's.
  await expect.poll(async () => (await readCommandLine(pid, { platform: "linux" }))?.[1]).toBe(bundle);
  return { pid, exited };
}

/** What PowerShell prints for `Get-CimInstance Win32_Process | Select-Object ProcessId,CommandLine | ConvertTo-Json -Compress`. */
function powershellAnswering(json: unknown): ProcessTableContext & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    platform: "win32",
    calls,
    run: async (file, args) => {
      calls.push([file, ...args]);
      return { exitCode: 0, stdout: JSON.stringify(json) };
    },
  };
}

describe("process table on macOS (ps)", () => {
  it("reads one process's command line, and all processes', through ps", async () => {
    const { pid } = await startWorkerLike("wrk_mac");
    const darwin = { platform: "darwin" } as const;
    expect(await readCommandLine(pid, darwin)).toEqual([process.execPath, bundle, "--worker-id", "wrk_mac"]);
    expect((await listCommandLines(darwin)).find((line) => line.pid === pid)?.args).toEqual([process.execPath, bundle, "--worker-id", "wrk_mac"]);
    expect(await readCommandLine(2 ** 22 + 1, darwin)).toBeUndefined();
  });

  it("vouches for a worker and finds it without /proc", async () => {
    const { pid } = await startWorkerLike("wrk_mac2");
    const installations = { workerCatalogRoot: path.join(dir, "workers") };
    expect(await checkWorkerProcess(pid, "wrk_mac2", installations, { platform: "darwin" })).toEqual({ ok: true });
    expect(await findWorkerProcesses(installations, { platform: "darwin" })).toContainEqual(expect.objectContaining({ pid, workerId: "wrk_mac2" }));
  });

  it("sees a process exit through ps", async () => {
    const { pid, exited } = await startWorkerLike("wrk_exit");
    expect(await hasExited(pid, { platform: "darwin" })).toBe(false);
    process.kill(pid, "SIGKILL");
    await exited;
    expect(await hasExited(pid, { platform: "darwin" })).toBe(true);
  });

  it("parses ps's pid and command columns", () => {
    expect(parsePsList("  1 /sbin/launchd\n 812 /usr/bin/node /w/worker.mjs --worker-id wrk_a\n\n")).toEqual([
      { pid: 1, args: ["/sbin/launchd"] },
      { pid: 812, args: ["/usr/bin/node", "/w/worker.mjs", "--worker-id", "wrk_a"] },
    ]);
  });
});

describe("process table on Windows (PowerShell's process list)", () => {
  it("asks for one pid's command line and splits it as Windows does", async () => {
    const context = powershellAnswering({ ProcessId: 4242, CommandLine: '"C:\\Program Files\\nodejs\\node.exe" C:\\rbee\\workers\\w\\worker.mjs --worker-id wrk_w' });
    expect(await readCommandLine(4242, context)).toEqual(["C:\\Program Files\\nodejs\\node.exe", "C:\\rbee\\workers\\w\\worker.mjs", "--worker-id", "wrk_w"]);
    expect(context.calls).toEqual([["powershell.exe", "-NoProfile", "-NonInteractive", "-Command", expect.stringContaining('Win32_Process -Filter "ProcessId=4242"')]]);
  });

  it("says no process when the list is empty, and skips processes whose command line it may not read", async () => {
    expect(await readCommandLine(7, { ...powershellAnswering(null), run: async () => ({ exitCode: 0, stdout: "" }) })).toBeUndefined();
    const listed = await listCommandLines(powershellAnswering([{ ProcessId: 4, CommandLine: null }, { ProcessId: 9, CommandLine: "node.exe w.mjs" }, { ProcessId: 10 }]));
    expect(listed).toEqual([{ pid: 9, args: ["node.exe", "w.mjs"] }]);
    expect(parseWindowsProcesses("not json")).toEqual([]);
  });

  it("vouches for a worker from the process list (node.exe running a catalog bundle)", async () => {
    const installations = { workerCatalogRoot: "C:\\Users\\me\\AppData\\Local\\rbee\\workers" };
    const worker = "c:\\users\\me\\appdata\\local\\rbee\\workers\\cpu-llm-worker-rbee-v0.1.0-windows\\worker.mjs";
    const context = powershellAnswering({ ProcessId: 4242, CommandLine: `C:\\nodejs\\NODE.EXE "${worker}" --worker-id wrk_w` });
    expect(await checkWorkerProcess(4242, "wrk_w", installations, context)).toEqual({ ok: true });
    expect(await checkWorkerProcess(4242, "wrk_other", installations, context)).toEqual({ ok: false, reason: "pid 4242 is an rbee worker, but not wrk_other", running: true });
  });

  it("splits command lines by CommandLineToArgvW's rules", () => {
    expect(splitWindowsCommandLine('a "b c" d')).toEqual(["a", "b c", "d"]);
    expect(splitWindowsCommandLine('"C:\\a b\\" x')).toEqual(['C:\\a b" x']);
    expect(splitWindowsCommandLine('"C:\\a b\\\\" x')).toEqual(["C:\\a b\\", "x"]);
    expect(splitWindowsCommandLine('a\\\\\\"b c\\d  ""')).toEqual(['a\\"b', "c\\d", ""]);
  });

  it("ends a worker at once, since Windows has no SIGTERM to drain on", async () => {
    const { pid, exited } = await startWorkerLike("wrk_win");
    const narrated: string[] = [];
    const outcome = await stopProcess(pid, 60_000, new AbortController().signal, (action, message) => narrated.push(`${action}: ${message}`), { platform: "win32" });
    await exited;
    expect(outcome.forced).toBe(true);
    expect(narrated).toEqual([expect.stringMatching(/^sigkill: Windows has no SIGTERM: ending pid \d+ at once/)]);
  });
});
