// Where a hive's local channel listens and its workers send heartbeats: a unix socket (what the
// hive uses on Linux and macOS, at a fixed path per hive so workers find a restarted hive again),
// a Windows named pipe (what it uses on Windows, where a path cannot name a socket), or an http
// URL on loopback (what tests and older hives use). Never a public address. The hive formats it
// into the worker's --hive-channel flag; the worker parses it back.
import { isLoopbackHost } from "./loopback-host.js";

export type HiveChannelAddress =
  | { kind: "unix"; socketPath: string }
  | { kind: "pipe"; pipePath: string }
  | { kind: "tcp"; host: string; port: number };

/** `\\.\pipe\<name>` (or `\\?\pipe\`): the only names Node can listen on as a local socket on Windows. */
const WINDOWS_PIPE = /^\\\\[.?]\\pipe\\[^\\\0]+$/;

export function isWindowsPipePath(value: string): boolean {
  return WINDOWS_PIPE.test(value);
}

/** `unix:/abs/path.sock`, `pipe:\\.\pipe\name` or `http://127.0.0.1:<port>`; undefined for anything else. */
export function parseHiveChannel(raw: string): HiveChannelAddress | undefined {
  if (raw.startsWith("unix:")) {
    const socketPath = raw.slice("unix:".length);
    return socketPath.startsWith("/") && !socketPath.includes("\0") ? { kind: "unix", socketPath } : undefined;
  }
  if (raw.startsWith("pipe:")) {
    const pipePath = raw.slice("pipe:".length);
    return isWindowsPipePath(pipePath) ? { kind: "pipe", pipePath } : undefined;
  }
  if (!URL.canParse(raw)) return undefined;
  const url = new URL(raw);
  if (url.protocol !== "http:" || !isLoopbackHost(url.hostname) || url.port === "") return undefined;
  return { kind: "tcp", host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) };
}

export function formatHiveChannel(address: HiveChannelAddress): string {
  switch (address.kind) {
    case "unix":
      return `unix:${address.socketPath}`;
    case "pipe":
      return `pipe:${address.pipePath}`;
    case "tcp":
      return `http://${address.host}:${address.port}`;
  }
}

/** Where node:http connects to reach the channel: a unix socket and a named pipe are both a `socketPath`. */
export function channelConnectTarget(address: HiveChannelAddress): { socketPath: string } | { host: string; port: number } {
  switch (address.kind) {
    case "unix":
      return { socketPath: address.socketPath };
    case "pipe":
      return { socketPath: address.pipePath };
    case "tcp":
      return { host: address.host, port: address.port };
  }
}
