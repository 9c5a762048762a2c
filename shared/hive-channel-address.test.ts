// The --hive-channel address a hive gives its workers: unix sockets, Windows named pipes and
// loopback URLs round-trip; anything else is refused before a worker would post to it.
import { describe, expect, it } from "vitest";
import { channelConnectTarget, formatHiveChannel, type HiveChannelAddress, parseHiveChannel } from "./hive-channel-address.js";

describe("hive channel addresses", () => {
  it("round-trips a unix socket, a Windows named pipe and a loopback port", () => {
    const addresses: HiveChannelAddress[] = [
      { kind: "unix", socketPath: "/home/me/.cache/rbee/run/hive-pc.sock" },
      { kind: "pipe", pipePath: "\\\\.\\pipe\\rbee-hive-pc-0123456789abcdef" },
      { kind: "tcp", host: "127.0.0.1", port: 4000 },
    ];
    for (const address of addresses) expect(parseHiveChannel(formatHiveChannel(address))).toEqual(address);
    expect(formatHiveChannel(addresses[1] as HiveChannelAddress)).toBe("pipe:\\\\.\\pipe\\rbee-hive-pc-0123456789abcdef");
  });

  it("connects node:http to a named pipe as to a unix socket, by its path", () => {
    expect(channelConnectTarget({ kind: "pipe", pipePath: "\\\\.\\pipe\\x" })).toEqual({ socketPath: "\\\\.\\pipe\\x" });
    expect(channelConnectTarget({ kind: "unix", socketPath: "/s.sock" })).toEqual({ socketPath: "/s.sock" });
    expect(channelConnectTarget({ kind: "tcp", host: "::1", port: 9 })).toEqual({ host: "::1", port: 9 });
  });

  it("refuses a pipe outside \\\\.\\pipe\\, a relative socket and a public host", () => {
    for (const raw of ["pipe:C:\\temp\\x", "pipe:\\\\.\\pipe\\", "pipe:\\\\.\\pipe\\a\\b", "unix:run/x.sock", "http://10.0.0.1:80", "http://127.0.0.1"]) {
      expect(parseHiveChannel(raw), raw).toBeUndefined();
    }
    expect(parseHiveChannel("pipe:\\\\?\\pipe\\rbee")).toEqual({ kind: "pipe", pipePath: "\\\\?\\pipe\\rbee" });
  });
});
