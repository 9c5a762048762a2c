import { describe, expect, it } from "vitest";
import { connectUrl } from "./connection/queen-connection.js";
import { parseConnectOptions, UsageError } from "./options.js";

describe("rbee-hive connect options", () => {
  it("reads flags", () => {
    const options = parseConnectOptions(["--queen", "https://q.example", "--token", "t", "--name", "pc-1"], {}, "host");
    expect(options).toEqual({ queenUrl: "https://q.example", token: "t", name: "pc-1", workerStopGraceMs: 10_000 });
  });

  it("reads the worker stop grace period from its flag or the environment", () => {
    const base = ["--queen", "http://q", "--token", "t"];
    expect(parseConnectOptions([...base, "--worker-stop-grace-ms", "250"], {}, "h").workerStopGraceMs).toBe(250);
    expect(parseConnectOptions(base, { RBEE_WORKER_STOP_GRACE_MS: "500" }, "h").workerStopGraceMs).toBe(500);
    expect(() => parseConnectOptions([...base, "--worker-stop-grace-ms", "soon"], {}, "h")).toThrow(/^--worker-stop-grace-ms: /);
  });

  it("falls back to the environment, then to the host name", () => {
    const options = parseConnectOptions([], { RBEE_QUEEN_URL: "http://q:1", RBEE_HIVE_TOKEN: "t" }, "My Box!");
    expect(options).toMatchObject({ queenUrl: "http://q:1", token: "t", name: "My-Box-" });
  });

  it("names the missing flag", () => {
    expect(() => parseConnectOptions(["--queen", "http://q"], {}, "h")).toThrow(/^--token: /);
  });

  it("names a bad URL", () => {
    expect(() => parseConnectOptions(["--queen", "ftp://q", "--token", "t"], {}, "h")).toThrow(/^--queen: .*http/);
  });

  it("refuses hive names that could escape a path", () => {
    expect(() => parseConnectOptions(["--token", "t", "--name", "../x"], {}, "h")).toThrow(/^--name: /);
  });

  it("refuses unknown flags", () => {
    expect(() => parseConnectOptions(["--tokn", "t"], {}, "h")).toThrow(UsageError);
  });
});

describe("connectUrl", () => {
  it("maps http to ws and https to wss, keeping a path prefix", () => {
    expect(connectUrl("http://127.0.0.1:7833", "a")).toBe("ws://127.0.0.1:7833/v1/hive/connect?name=a");
    expect(connectUrl("https://rbee.example/base/", "b")).toBe("wss://rbee.example/base/v1/hive/connect?name=b");
  });
});
