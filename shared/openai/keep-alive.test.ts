import { describe, expect, it } from "vitest";
import { ChatCompletionRequest } from "./chat-request.js";
import { parseKeepAliveMs, withoutKeepAlive } from "./keep-alive.js";

describe("keep_alive", () => {
  it("reads seconds and durations as Ollama does", () => {
    expect(parseKeepAliveMs(300)).toBe(300_000);
    expect(parseKeepAliveMs("10m")).toBe(600_000);
    expect(parseKeepAliveMs("1h30m")).toBe(5_400_000);
    expect(parseKeepAliveMs("45s")).toBe(45_000);
    expect(parseKeepAliveMs("500ms")).toBe(500);
    expect(parseKeepAliveMs("120")).toBe(120_000);
  });

  it("reads 0 as unload now and a negative value as never", () => {
    expect(parseKeepAliveMs(0)).toBe(0);
    expect(parseKeepAliveMs("0")).toBe(0);
    expect(parseKeepAliveMs(-1)).toBe(Number.POSITIVE_INFINITY);
    expect(parseKeepAliveMs("-1m")).toBe(Number.POSITIVE_INFINITY);
  });

  it("refuses what is no duration, in a chat request, naming the forms it takes", () => {
    expect(parseKeepAliveMs("soon")).toBeUndefined();
    const parsed = ChatCompletionRequest.safeParse({ model: "m", messages: [{ role: "user", content: "hi" }], keep_alive: "soon" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toContain('a duration such as "10m"');
  });

  it("is taken out of the request the worker gets", () => {
    const request = ChatCompletionRequest.parse({ model: "m", messages: [{ role: "user", content: "hi" }], keep_alive: "5m" });
    expect(withoutKeepAlive(request)).not.toHaveProperty("keep_alive");
    expect(withoutKeepAlive(request)).toMatchObject({ model: "m" });
  });
});
