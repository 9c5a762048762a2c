// What keeps two `npm start`s from sharing one state folder or one port: the state folder's lock
// (scripts/local-cloud/instance-lock.ts) and the port check (port-check.ts), with real files, a
// real listening socket and a real process that is gone.
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import net from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockStateFolder } from "../../scripts/local-cloud/instance-lock.js";
import { ensurePortFree } from "../../scripts/local-cloud/port-check.js";
import { StartRefused } from "../../scripts/local-cloud/start-refused.js";
import { findFreeLoopbackPort } from "../../shared/free-port.js";

/** The pid of a process that ran and is gone. */
async function deadPid(): Promise<number> {
  const { stdout } = await execa(process.execPath, ["-e", "console.log(process.pid)"]);
  return Number(stdout);
}

describe("the state folder's lock", () => {
  let stateDir = "";
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);

  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "rbee-lock-"));
    lines.length = 0;
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it("refuses a second instance while the first runs, naming its pid and URL", async () => {
    const first = await lockStateFolder(stateDir, "http://127.0.0.1:7833", log);
    const second = await lockStateFolder(stateDir, "http://127.0.0.1:7834", log).catch((error: unknown) => error);
    expect(second).toBeInstanceOf(StartRefused);
    expect((second as StartRefused).code).toBe("instance_running");
    expect((second as StartRefused).message).toContain(`another npm start (pid ${process.pid}, serving http://127.0.0.1:7833`);
    expect((second as StartRefused).message).toContain(stateDir);
    await first.release();
  });

  it("is free again once released, and the next instance writes its own pid and URL", async () => {
    await (await lockStateFolder(stateDir, "http://127.0.0.1:7833", log)).release();
    const next = await lockStateFolder(stateDir, "http://127.0.0.1:7999", log);
    expect(JSON.parse(await readFile(join(stateDir, "instance.json"), "utf8"))).toMatchObject({ pid: process.pid, url: "http://127.0.0.1:7999" });
    await next.release();
    await next.release(); // twice is fine
  });

  it("takes over the lock of an instance killed before it could release it", async () => {
    // What a SIGKILLed npm start leaves: its lock folder, last refreshed a while ago, and its info.
    const pid = await deadPid();
    await mkdir(join(stateDir, "instance.lock"));
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(join(stateDir, "instance.lock"), longAgo, longAgo);
    await writeFile(join(stateDir, "instance.json"), JSON.stringify({ pid, url: "http://127.0.0.1:7833", startedAt: longAgo.toISOString() }));

    const lock = await lockStateFolder(stateDir, "http://127.0.0.1:7833", log);
    expect(JSON.parse(await readFile(join(stateDir, "instance.json"), "utf8"))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  // The lock goes stale 10 s after its last refresh: only seeing that its holder is gone lets the
  // next start take it before this test's timeout.
  it("takes over a killed instance's lock at once, before it goes stale", { timeout: 5_000 }, async () => {
    const pid = await deadPid();
    await mkdir(join(stateDir, "instance.lock"));
    const justBefore = new Date(Date.now() - 3_000); // killed right after a refresh
    await utimes(join(stateDir, "instance.lock"), justBefore, justBefore);
    await writeFile(join(stateDir, "instance.json"), JSON.stringify({ pid, host: hostname(), url: "http://127.0.0.1:7833", startedAt: justBefore.toISOString() }));

    const lock = await lockStateFolder(stateDir, "http://127.0.0.1:7834", log);
    expect(JSON.parse(await readFile(join(stateDir, "instance.json"), "utf8"))).toMatchObject({ pid: process.pid, host: hostname(), url: "http://127.0.0.1:7834" });
    expect(lines).toEqual([expect.stringContaining(`(pid ${pid}) ended without releasing its lock; taking it over`)]);
    await lock.release();
  });
});

describe("the port check", () => {
  it("passes a free port", async () => {
    await expect(ensurePortFree(await findFreeLoopbackPort())).resolves.toBeUndefined();
  });

  it("refuses a port another process listens on, naming that process and what to do", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const refused = await ensurePortFree(port).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(StartRefused);
      expect((refused as StartRefused).code).toBe("port_in_use");
      expect((refused as StartRefused).message).toContain(`port ${port} on 127.0.0.1 is in use by pid ${process.pid} (`);
      expect((refused as StartRefused).message).toContain("RBEE_PORT=<port> npm start");
    } finally {
      server.close();
    }
  });
});
