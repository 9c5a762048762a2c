// The shared logger: one JSON object per line with the fixed keys first, or one readable line on a
// terminal; RBEE_LOG_FORMAT chooses either way.
import { describe, expect, it } from "vitest";
import { checkLogFormat, createLogger, logFormatFor, logMessageOf } from "./json-log.js";

const now = () => new Date("2026-12-02T04:05:06.789Z");

function capture(format: "json" | "text") {
  const lines: string[] = [];
  return { lines, logger: createLogger({ role: "hive", format, write: (line) => lines.push(line), now }) };
}

describe("the hive's and the worker's logger", () => {
  it("writes one JSON line: time, level, role, msg, then the event's fields, leaving out those without a value", () => {
    const { lines, logger } = capture("json");
    logger.info("relayed request req_1 to worker wrk_1: answered", { request_id: "req_1", worker: "wrk_1", status: 200, duration_ms: 12, error: undefined });
    logger.warn("queen unreachable", { msg: "not taken", level: "not taken" });
    expect(lines).toEqual([
      '{"time":"2026-12-02T04:05:06.789Z","level":"info","role":"hive","msg":"relayed request req_1 to worker wrk_1: answered","request_id":"req_1","worker":"wrk_1","status":200,"duration_ms":12}',
      '{"time":"2026-12-02T04:05:06.789Z","level":"warn","role":"hive","msg":"queen unreachable"}',
    ]);
  });

  it("writes the same facts as one readable line on a terminal", () => {
    const { lines, logger } = capture("text");
    logger.error("worker exited", { request_id: "req_1", reason: "exit code 1", status: null });
    expect(lines).toEqual(['04:05:06.789 error hive: worker exited request_id=req_1 reason="exit code 1" status=null']);
  });

  it("chooses text on a terminal and JSON elsewhere, unless RBEE_LOG_FORMAT says", () => {
    expect(logFormatFor({ isTTY: true }, {})).toBe("text");
    expect(logFormatFor({}, {})).toBe("json");
    expect(logFormatFor({ isTTY: true }, { RBEE_LOG_FORMAT: "json" })).toBe("json");
    expect(logFormatFor({}, { RBEE_LOG_FORMAT: "text" })).toBe("text");
    expect(logFormatFor({}, { RBEE_LOG_FORMAT: "yaml" })).toBe("json");
  });

  it("refuses an RBEE_LOG_FORMAT that names neither format, as the hive and npm start check it before starting", () => {
    expect(() => checkLogFormat({ RBEE_LOG_FORMAT: "jsn" })).toThrow(/RBEE_LOG_FORMAT: expected json or text, got 'jsn'/);
    for (const fine of [{}, { RBEE_LOG_FORMAT: "" }, { RBEE_LOG_FORMAT: "json" }, { RBEE_LOG_FORMAT: "text" }]) expect(() => checkLogFormat(fine)).not.toThrow();
  });

  it("reads a line's message back for people (npm start's output, a failed worker's last words)", () => {
    expect(logMessageOf('{"time":"t","level":"info","role":"hive","msg":"connected to queen"}')).toBe("connected to queen");
    expect(logMessageOf("listening on 127.0.0.1:4000")).toBe("listening on 127.0.0.1:4000");
    expect(logMessageOf("{not json")).toBe("{not json");
  });
});
