import { describe, expect, it } from "vitest";
import { MAX_PRINTED_CHARS, printable } from "./printable.js";

describe("printable", () => {
  it("writes a peer's line breaks and escape sequences as escapes, so its text stays on its own log line", () => {
    expect(printable("exit 1\nhive local: socket closed\r\u001b[2J\tend\u0000")).toBe("exit 1\\nhive local: socket closed\\r\\u001b[2J\\tend\\u0000");
    expect(printable("line\u2028separator\u0085")).toBe("line\\u2028separator\\u0085");
    expect(printable("plain text, ünïcödé and emoji 🐝")).toBe("plain text, ünïcödé and emoji 🐝");
  });

  it("cuts a long text", () => {
    expect(printable("x".repeat(MAX_PRINTED_CHARS + 10))).toBe(`${"x".repeat(MAX_PRINTED_CHARS)}…`);
    expect(printable("abcdef", 3)).toBe("abc…");
  });
});
