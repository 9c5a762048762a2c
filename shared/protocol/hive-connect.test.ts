// The URL a hive dials: the queen's base URL, switched to WebSocket, plus the connect path and name.
import { describe, expect, it } from "vitest";
import { hiveConnectUrl } from "./hive-connect.js";

describe("hiveConnectUrl", () => {
  it("maps http to ws and https to wss, keeping a path prefix", () => {
    expect(hiveConnectUrl("http://127.0.0.1:7833", "a")).toBe("ws://127.0.0.1:7833/v1/hive/connect?name=a");
    expect(hiveConnectUrl("https://rbee.example/base/", "b")).toBe("wss://rbee.example/base/v1/hive/connect?name=b");
  });
});
