// The hive's process-level guard, in real Node processes (the handlers are process-wide, and what
// matters is whether the process lives or dies): a stray rejection is logged and the process runs
// on; an uncaught exception is logged, the hive stopped cleanly, and the exit code is 1; a stop
// that fails is logged and ends in exit 1, never in an unhandled rejection.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopThenExit } from "./crash-guard.js";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const GUARD_URL = pathToFileURL(path.join(HERE, "crash-guard.ts")).href;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-crash-guard-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `body` after installing the guard with a stop that logs, in a process of its own. */
async function runGuarded(name: string, body: string) {
  const script = path.join(dir, `${name}.ts`);
  await writeFile(
    script,
    `import { installCrashGuard } from ${JSON.stringify(GUARD_URL)};
const log = (line: string) => console.log(line);
installCrashGuard(process, { log, stop: async () => log("hive stopped cleanly"), exit: (code) => process.exit(code) });
${body}`,
  );
  return execa(process.execPath, ["--import", "tsx", script], { reject: false, timeout: 30_000, cwd: path.join(HERE, "../..") });
}

describe("installCrashGuard", () => {
  it("logs an unhandled rejection with its stack and keeps the hive running", async () => {
    const result = await runGuarded("rejection", `
void Promise.reject(new Error("stray rejection"));
setTimeout(() => { console.log("still running"); process.exit(0); }, 200);`);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("rbee-hive: unhandled promise rejection (a bug; the hive keeps running): Error: stray rejection");
    expect(result.stdout).toContain("still running");
    expect(result.stdout).not.toContain("hive stopped cleanly");
  });

  it("logs an uncaught exception, stops the hive cleanly and exits 1", async () => {
    const result = await runGuarded("exception", `
setTimeout(() => { throw new Error("boom in a timer"); }, 10);
setInterval(() => {}, 1000);`);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain("rbee-hive: uncaught exception (a bug), stopping: Error: boom in a timer");
    expect(result.stdout).toMatch(/boom in a timer\n\s+at /); // with its stack
    expect(result.stdout).toContain("hive stopped cleanly");
  });
});

describe("stopThenExit", () => {
  it("exits with the code asked for once the hive stopped", async () => {
    const codes: number[] = [];
    await stopThenExit(async () => {}, () => {}, (code) => codes.push(code), 0);
    expect(codes).toEqual([0]);
  });

  it("logs a stop that rejects and exits 1, without rejecting itself", async () => {
    const codes: number[] = [];
    const logged: string[] = [];
    const stopped = stopThenExit(
      () => Promise.reject(new Error("channel close failed")),
      (line) => logged.push(line),
      (code) => codes.push(code),
      0,
    );
    await expect(stopped).resolves.toBeUndefined();
    expect(codes).toEqual([1]);
    expect(logged[0]).toMatch(/^rbee-hive: could not stop cleanly: Error: channel close failed/);
  });
});
