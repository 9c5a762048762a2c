// Checks the queen's port before `npm start` starts workerd on it: workerd on a taken port does
// not fail fast (wrangler waits on it), so without this a second start hangs silently. When the
// port is taken, says which process holds it (Linux: from /proc; elsewhere: lsof, if installed).
import { readdir, readFile, readlink } from "node:fs/promises";
import net from "node:net";
import { execa } from "execa";
import { StartRefused } from "./start-refused.js";

/** Throws StartRefused naming the holder when 127.0.0.1:`port` cannot be listened on. */
export async function ensurePortFree(port: number): Promise<void> {
  const server = net.createServer();
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    server.once("error", resolve);
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => resolve(undefined));
  });
  if (error === undefined) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return;
  }
  if (error.code !== "EADDRINUSE" && error.code !== "EACCES") throw error;
  const holder = error.code === "EADDRINUSE" ? await describePortHolder(port) : undefined;
  const why = error.code === "EACCES" ? "may not be listened on by this user" : `is in use${holder === undefined ? "" : ` by ${holder}`}`;
  throw new StartRefused(
    "port_in_use",
    `port ${port} on 127.0.0.1 ${why}. Stop that process, or pick another port: RBEE_PORT=<port> npm start (or npm start -- --port <port>); ` +
      "a second rbee beside a running one also needs its own state folder (RBEE_STATE_DIR)",
  );
}

/** `pid 123 (workerd serve …), started by pid 100 (node … scripts/start.ts)`, or undefined when it cannot tell. */
export async function describePortHolder(port: number): Promise<string | undefined> {
  const pid = process.platform === "linux" ? await listenerPidFromProc(port) : await listenerPidFromLsof(port);
  if (pid === undefined) return undefined;
  const parent = await parentOf(pid);
  const self = `pid ${pid} (${await commandLine(pid)})`;
  return parent === undefined || parent <= 1 ? self : `${self}, started by pid ${parent} (${await commandLine(parent)})`;
}

/** The pid listening on TCP `port`: its socket's inode from /proc/net/tcp{,6}, then whose fd it is. */
async function listenerPidFromProc(port: number): Promise<number | undefined> {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      const [localAddress, state, inode] = [fields[1], fields[3], fields[9]];
      if (localAddress === undefined || inode === undefined || state !== "0A") continue; // 0A: LISTEN
      if (Number.parseInt(localAddress.slice(localAddress.lastIndexOf(":") + 1), 16) === port) inodes.add(`socket:[${inode}]`);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const fds = await readdir(`/proc/${name}/fd`).catch(() => []); // another user's: not ours to read
    for (const fd of fds) {
      if (inodes.has(await readlink(`/proc/${name}/fd/${fd}`).catch(() => ""))) return Number(name);
    }
  }
  return undefined;
}

async function listenerPidFromLsof(port: number): Promise<number | undefined> {
  const result = await execa("lsof", ["-nP", "-t", `-iTCP:${port}`, "-sTCP:LISTEN"], { reject: false, stdin: "ignore" });
  const pid = Number(result.stdout.split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function parentOf(pid: number): Promise<number | undefined> {
  const result = await execa("ps", ["-o", "ppid=", "-p", String(pid)], { reject: false, stdin: "ignore" });
  const parent = Number(result.stdout.trim());
  return Number.isInteger(parent) && parent > 0 ? parent : undefined;
}

/** The process's command line, shortened for a one-line message. */
async function commandLine(pid: number): Promise<string> {
  const result = await execa("ps", ["-o", "args=", "-p", String(pid)], { reject: false, stdin: "ignore" });
  const line = result.stdout.trim() || "?";
  return line.length > 120 ? `${line.slice(0, 117)}…` : line;
}
