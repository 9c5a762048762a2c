// Passes a server-sent-event stream through while rewriting its error events: a line
// `data: {"error":{…}}` (what the queen appends when a stream is cut, and what a worker sends when
// generation fails) is replaced by what `rewrite` makes of the error; every other byte passes
// unchanged. redact-relay-errors.ts uses it so that inference clients never read relay details.
import { z } from "zod";
import type { OpenAiErrorBody } from "../../shared/errors.js";

/**
 * Longest partial line held back waiting for its line end. Error events are a few hundred bytes;
 * a longer line is not one and is passed on as it is, so one endless line cannot fill memory.
 */
const MAX_HELD_CHARS = 64 * 1024;

const encoder = new TextEncoder();

export function rewriteSseErrors(
  source: ReadableStream<Uint8Array>,
  rewrite: (body: OpenAiErrorBody) => OpenAiErrorBody,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const decoder = new TextDecoder();
  /** The start of a line whose end has not arrived yet. */
  let held = "";
  // Pull-based like streams/tap-stream.ts: a reader's cancel reaches the source (and so the hive).
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Loop until something is enqueued: a pull that enqueues nothing is not called again.
        for (;;) {
          const { done, value } = await reader.read();
          if (done) {
            const rest = held + decoder.decode();
            held = "";
            if (rest) controller.enqueue(encoder.encode(rewriteLines(rest, rewrite)));
            controller.close();
            return;
          }
          const text = held + decoder.decode(value, { stream: true });
          const lineEnd = Math.max(text.lastIndexOf("\n"), text.lastIndexOf("\r"));
          const complete = text.slice(0, lineEnd + 1);
          const hadNothingHeld = held === "";
          held = text.slice(lineEnd + 1);
          if (held.length > MAX_HELD_CHARS) {
            controller.enqueue(encoder.encode(complete + held));
            held = "";
            return;
          }
          if (!complete) continue;
          // The common case, a chunk of whole events with no error: the bytes go on untouched.
          if (hadNothingHeld && !held && !complete.includes('"error"')) controller.enqueue(value);
          else controller.enqueue(encoder.encode(rewriteLines(complete, rewrite)));
          return;
        }
      },
      async cancel(reason) {
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

function rewriteLines(text: string, rewrite: (body: OpenAiErrorBody) => OpenAiErrorBody): string {
  if (!text.includes('"error"')) return text;
  // Split keeping the line ends, so that the stream's own line ends (LF, CR or CRLF) survive.
  return text
    .split(/(\r\n|\r|\n)/)
    .map((line) => rewriteLine(line, rewrite))
    .join("");
}

function rewriteLine(line: string, rewrite: (body: OpenAiErrorBody) => OpenAiErrorBody): string {
  if (!line.startsWith("data:") || !line.includes('"error"')) return line;
  const body = errorBodyOf(line.slice("data:".length).trim());
  return body ? `data: ${JSON.stringify(rewrite(body))}` : line;
}

// Loose on purpose: whatever a worker or hive wrote, a field of the wrong kind gets a safe value.
const ErrorBody = z.object({
  error: z.object({
    message: z.string().catch(""),
    type: z.enum(["invalid_request_error", "authentication_error", "permission_error", "rate_limit_error", "server_error"]).catch("server_error"),
    param: z.string().nullable().catch(null),
    code: z.string().nullable().catch(null),
  }),
});

/** The OpenAI error body in `json`, or undefined when it is something else. */
export function errorBodyOf(json: string): OpenAiErrorBody | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  const body = ErrorBody.safeParse(parsed);
  return body.success ? body.data : undefined;
}
