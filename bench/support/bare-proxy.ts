// A bare one-hop reverse proxy in front of a worker (./bare-proxy-server.ts), in a process of its
// own as a gateway would be: the yardstick bench/relay.ts and bench/streams.ts set the queen and
// the hive beside, so that what the relay costs on a machine can be told from what any hop costs.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { withinMs } from "../../shared/within.js";
import { stopChild } from "./stop-child.js";

const SERVER = fileURLToPath(new URL("./bare-proxy-server.ts", import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface BareProxy {
  /** Base URL; every path is forwarded to the target. */
  url: string;
  /** The proxy's process, whose CPU the benches charge to the requests it carried. */
  pid: number;
  stop(): Promise<void>;
}

/** Starts a bare proxy to `targetUrl` (e.g. a worker's `http://127.0.0.1:PORT`) and resolves once it listens. */
export async function startBareProxy(targetUrl: string): Promise<BareProxy> {
  const child = spawn(process.execPath, ["--import", "tsx", SERVER, targetUrl], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = () => stopChild(child, exited, STOP_TIMEOUT_MS);
  try {
    const firstLine = new Promise<string>((resolve) => createInterface({ input: child.stdout }).once("line", resolve));
    const gone = exited.then((): never => {
      throw new Error(`the bare proxy exited before it listened (${child.exitCode ?? child.signalCode})`);
    });
    const port = await withinMs(Promise.race([firstLine, gone]), START_TIMEOUT_MS);
    if (port === undefined) throw new Error(`the bare proxy did not listen within ${START_TIMEOUT_MS / 1000} s`);
    if (!/^\d+$/.test(port)) throw new Error(`the bare proxy printed '${port}' instead of its port`);
    return { url: `http://127.0.0.1:${port}`, pid: child.pid as number, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
