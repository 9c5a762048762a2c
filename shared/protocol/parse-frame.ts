// Parses one WebSocket frame against a protocol schema. Never throws: a hostile or broken peer
// gets a described refusal back instead of crashing the end that received it.
import type { z } from "zod";
import { describeZodError } from "../validation.js";
import { MAX_FRAME_BYTES } from "./hive-frames.js";

export type FrameProblemCode = "frame_too_large" | "frame_not_text" | "invalid_json" | "invalid_frame";

export type ParsedFrame<T> =
  | { ok: true; frame: T }
  /** `json`: an invalid frame's parsed JSON, so the receiver can tell whom it concerned (a relay it names). */
  | { ok: false; code: FrameProblemCode; message: string; json?: unknown };

export function parseFrame<S extends z.ZodType>(schema: S, raw: unknown): ParsedFrame<z.infer<S>> {
  if (typeof raw !== "string") {
    return { ok: false, code: "frame_not_text", message: "frames must be JSON text, not binary" };
  }
  // UTF-16 length is a lower bound of the UTF-8 size, and cheap; exact enough for a ceiling.
  if (raw.length > MAX_FRAME_BYTES) {
    return { ok: false, code: "frame_too_large", message: `frame of ${raw.length} characters exceeds ${MAX_FRAME_BYTES}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return { ok: false, code: "invalid_json", message: `frame is not JSON: ${(error as Error).message}` };
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const type = typeof json === "object" && json !== null && "type" in json ? String(json.type).slice(0, 40) : "?";
    return { ok: false, code: "invalid_frame", message: `invalid "${type}" frame: ${describeZodError(result.error)}`, json };
  }
  return { ok: true, frame: result.data };
}
