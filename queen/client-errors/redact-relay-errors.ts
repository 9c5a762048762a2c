// Rewords the errors of a relayed answer for a client without the admin scope: a 5xx error body
// keeps its status and code but gets the wording of worker-error-wording.ts; the details it had
// are logged here under the request id the client is given. 4xx answers come from the worker
// about the client's own request and pass unchanged, as do successful answers. A stream's error
// events are worded where the stream is spliced (streams/spliced-stream.ts's `rewordError`).
import { type OpenAiErrorBody, openAiErrorBody } from "../../shared/errors.js";
import { errorBodyOf } from "./error-body.js";
import { clientWording } from "./worker-error-wording.js";
import { printable } from "../../shared/printable.js";

/** Most bytes of a 5xx body read to find its code; relay errors are a few hundred. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;
/** Most characters of an original message written to the log. */
const MAX_LOGGED_CHARS = 500;

export async function redactRelayErrors(response: Response, requestId: string): Promise<Response> {
  if (response.status < 500) return response;
  const original = errorBodyOf(await readCapped(response.body, MAX_ERROR_BODY_BYTES)) ?? openAiErrorBody(response.status, "worker_error", "(no OpenAI error body)");
  const headers = new Headers({ "content-type": "application/json", "x-request-id": requestId });
  const retryAfter = response.headers.get("retry-after");
  if (retryAfter !== null) headers.set("retry-after", retryAfter);
  return new Response(JSON.stringify(rewordForClient(original, requestId)), { status: response.status, headers });
}

/** `original` as a client without the admin scope reads it; its details are logged under `requestId`. */
export function rewordForClient(original: OpenAiErrorBody, requestId: string): OpenAiErrorBody {
  const { code, message } = original.error;
  const shownCode = code ?? "worker_error";
  console.warn(`request ${requestId}: ${printable(shownCode, 100)}: ${printable(message, MAX_LOGGED_CHARS)}`);
  return { error: { ...original.error, code: shownCode, message: clientWording(shownCode, requestId) } };
}

/** The first `maxBytes` of a body as text; the rest is not read. */
async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (!body) return "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    text += decoder.decode(value, { stream: true });
    if (bytes >= maxBytes) {
      await reader.cancel();
      break;
    }
  }
  return text + decoder.decode();
}
