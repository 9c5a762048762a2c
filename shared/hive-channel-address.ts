// Where a hive's local channel listens and its workers send heartbeats: a unix socket (what the
// hive uses, at a fixed path per hive so workers find a restarted hive again) or an http URL on
// loopback (what tests and older hives use). Never a public address.
import { isLoopbackHost } from "./loopback-host.js";

export type HiveChannelAddress = { kind: "unix"; socketPath: string } | { kind: "tcp"; host: string; port: number };


/** `unix:/abs/path.sock` or `http://127.0.0.1:<port>`; undefined for anything else. */
export function parseHiveChannel(raw: string): HiveChannelAddress | undefined {
  if (raw.startsWith("unix:")) {
    const socketPath = raw.slice("unix:".length);
    return socketPath.startsWith("/") && !socketPath.includes("\0") ? { kind: "unix", socketPath } : undefined;
  }
  if (!URL.canParse(raw)) return undefined;
  const url = new URL(raw);
  if (url.protocol !== "http:" || !isLoopbackHost(url.hostname) || url.port === "") return undefined;
  return { kind: "tcp", host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) };
}

export function formatHiveChannel(address: HiveChannelAddress): string {
  return address.kind === "unix" ? `unix:${address.socketPath}` : `http://${address.host}:${address.port}`;
}
