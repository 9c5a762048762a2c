// LocalChannel on a unix socket, for real: only this user may reach it, one hive per socket, and
// a socket left by a hive that died is taken over.
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseHiveChannel } from "../../shared/hive-channel-address.js";
import type { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";
import { fakeHeartbeat } from "../../test/support/fake-heartbeat.js";
import { postHeartbeat } from "../../test/support/post-heartbeat.js";
import { LocalChannel } from "./local-channel.js";

const HEARTBEAT = fakeHeartbeat({ workerId: "wrk_local1" });

let dir = "";
let socketPath = "";
const channels: LocalChannel[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-chan-"));
  socketPath = path.join(dir, "run", "hive-test.sock");
});

afterEach(async () => {
  for (const channel of channels.splice(0)) await channel.close();
  await rm(dir, { recursive: true, force: true });
});

function newChannel(received: WorkerHeartbeat[] = []): LocalChannel {
  const channel = new LocalChannel((heartbeat) => received.push(heartbeat), () => {});
  channels.push(channel);
  return channel;
}

/** Sends any request to the channel; resolves with the status and the body's text. */
function send(method: string, urlPath: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath, path: urlPath, method }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    request.once("error", reject);
    request.end(body);
  });
}

async function modeOf(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777;
}

describe("LocalChannel on a unix socket", () => {
  it("creates the socket 0600 in a 0700 folder and relays what workers post", async () => {
    const received: WorkerHeartbeat[] = [];
    const address = await newChannel(received).listen(socketPath);
    expect(parseHiveChannel(address)).toEqual({ kind: "unix", socketPath });
    expect(await modeOf(socketPath)).toBe(0o600);
    expect(await modeOf(path.dirname(socketPath))).toBe(0o700);
    expect(await postHeartbeat(socketPath, HEARTBEAT)).toBe(204);
    expect(received).toEqual([HEARTBEAT]);
  });

  it("makes a run folder an older hive left open private again", async () => {
    await mkdir(path.dirname(socketPath), { mode: 0o755 });
    await chmod(path.dirname(socketPath), 0o755);
    await newChannel().listen(socketPath);
    expect(await modeOf(path.dirname(socketPath))).toBe(0o700);
  });

  it("leaves the process's umask as it found it", async () => {
    const before = process.umask();
    await newChannel().listen(socketPath);
    expect(process.umask()).toBe(before);
  });

  it("refuses a second channel on a socket a live hive listens on, and leaves the first working", async () => {
    const received: WorkerHeartbeat[] = [];
    await newChannel(received).listen(socketPath);
    await expect(newChannel().listen(socketPath)).rejects.toMatchObject({ code: "hive_already_running" });
    expect(await postHeartbeat(socketPath, HEARTBEAT)).toBe(204);
    expect(received).toHaveLength(1);
  });

  it("replaces the socket file of a hive that died", async () => {
    await mkdir(path.dirname(socketPath), { recursive: true });
    // A process that listens and is SIGKILLed leaves its socket file behind, answering nobody.
    const dead = spawn(process.execPath, ["-e", `require("node:net").createServer().listen(process.argv[1], () => console.log("up"))`, socketPath], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      dead.stdout.once("data", () => resolve());
      dead.once("exit", () => reject(new Error("the stand-in hive exited before listening")));
    });
    const exited = new Promise((resolve) => dead.once("exit", resolve));
    dead.kill("SIGKILL");
    await exited;
    expect((await stat(socketPath)).isSocket()).toBe(true);

    const received: WorkerHeartbeat[] = [];
    await newChannel(received).listen(socketPath);
    expect(await modeOf(socketPath)).toBe(0o600);
    expect(await postHeartbeat(socketPath, HEARTBEAT)).toBe(204);
    expect(received).toEqual([HEARTBEAT]);
  });

  it("removes its socket on close, and closes twice without complaint", async () => {
    const channel = newChannel();
    await channel.listen(socketPath);
    await channel.close();
    await channel.close();
    await expect(stat(socketPath)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("answers anything but a valid heartbeat with 404, 400 or 413 saying why, and relays nothing", async () => {
    const received: WorkerHeartbeat[] = [];
    const logged: string[] = [];
    const channel = new LocalChannel((heartbeat) => received.push(heartbeat), (line) => logged.push(line));
    channels.push(channel);
    await channel.listen(socketPath);

    expect(await send("GET", "/heartbeat")).toEqual({ status: 404, body: '{"error":"only POST /heartbeat exists here"}' });
    expect(await send("POST", "/elsewhere", "{}")).toMatchObject({ status: 404 });
    expect(await send("POST", "/heartbeat", "{not json")).toEqual({ status: 400, body: '{"error":"heartbeat is not JSON"}' });
    expect(await send("POST", "/heartbeat", "x".repeat(16 * 1024 + 1))).toEqual({ status: 413, body: '{"error":"heartbeat exceeds 16384 bytes"}' });
    const invalid = await send("POST", "/heartbeat", JSON.stringify({ ...HEARTBEAT, pid: "not a number" }));
    expect(invalid.status).toBe(400);
    expect(invalid.body).toContain("pid");
    expect(logged).toEqual([expect.stringMatching(/^refused a worker heartbeat: .*pid/)]);
    expect(received).toEqual([]);
  });
});
