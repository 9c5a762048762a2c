// Scripted OpenAI streams for the tests of the queen's failover after the first token
// (queen/streams/spliced-stream.ts): what a worker sends, chunk by chunk, as the queen's relay
// delivers it, ending cleanly, with the relay's error event, with a failed body, or not at all.

/** How a scripted stream ends after its events. */
export type ScriptedEnd = "close" | "fail" | "hang";

export interface ScriptedStream {
  response: Response;
  /** Settles with the reason once the reader cancels the stream. */
  cancelled: Promise<unknown>;
}

const encoder = new TextEncoder();

/**
 * A streamed 200 answer sending `events` one per read, then ending as `end` says. An event given
 * as bytes goes as it is, so a read may end inside a character.
 */
export function scriptedStream(events: Array<string | Uint8Array>, end: ScriptedEnd = "close"): ScriptedStream {
  let onCancel: (reason: unknown) => void = () => {};
  const cancelled = new Promise<unknown>((resolve) => (onCancel = resolve));
  let next = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const event = events[next];
        next += 1;
        if (event !== undefined) return controller.enqueue(typeof event === "string" ? encoder.encode(event) : event);
        if (end === "close") return controller.close();
        if (end === "fail") return controller.error(new TypeError("network connection lost"));
        return new Promise<void>(() => {}); // "hang": nothing more, ever
      },
      cancel: (reason) => onCancel(reason),
    },
    { highWaterMark: 0 },
  );
  const response = new Response(body, { status: 200, headers: { "content-type": "text/event-stream; charset=utf-8" } });
  return { response, cancelled };
}

/** The events one worker sends for one answer, with that worker's own id, created and model. */
export function workerEvents(id: string, kind: "chat" | "completion" = "chat", created = 1_700_000_000, model = "tiny") {
  const object = kind === "chat" ? "chat.completion.chunk" : "text_completion";
  const event = (payload: object) => `data: ${JSON.stringify({ id, object, created, model, ...payload })}\n\n`;
  const choice = (text: string, finish: string | null) =>
    kind === "chat" ? { index: 0, delta: { content: text }, finish_reason: finish, logprobs: null } : { index: 0, text, finish_reason: finish, logprobs: null };
  return {
    /** Chat's opening chunk: the role and no text. */
    role: event({ choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null, logprobs: null }] }),
    text: (text: string) => event({ choices: [choice(text, null)] }),
    finish: (reason = "stop") => event({ choices: [kind === "chat" ? { index: 0, delta: {}, finish_reason: reason, logprobs: null } : choice("", reason)] }),
    /** The usage chunk; with `cachedTokens`, the prompt's breakdown as a worker gives it. */
    usage: (promptTokens: number, completionTokens: number, cachedTokens?: number) =>
      event({
        choices: [],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
          ...(cachedTokens === undefined ? {} : { prompt_tokens_details: { cached_tokens: cachedTokens, audio_tokens: 0 } }),
        },
      }),
    done: "data: [DONE]\n\n",
  };
}

/** The error event the queen's relay appends when the way to a worker breaks (pending-relay.ts). */
export function relayErrorEvent(code: string, message = `relay broke: ${code}`): string {
  return `data: ${JSON.stringify({ error: { message, type: "server_error", param: null, code } })}\n\n`;
}

/**
 * The text of choice 0 in an SSE body read so far: every whole event (ended by a blank line) is
 * parsed, and a last one not yet ended is left for the next read.
 */
export function contentSoFar(sse: string): string {
  const whole = sse.split("\n\n").slice(0, -1);
  let text = "";
  for (const event of whole) {
    if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
    const chunk = JSON.parse(event.slice("data: ".length)) as { choices?: Array<{ delta?: { content?: string } }> };
    text += chunk.choices?.[0]?.delta?.content ?? "";
  }
  return text;
}

export interface ReadStream {
  /** The data of every event, in order. */
  data: string[];
  /** The JSON chunks (not `[DONE]`). */
  chunks: Array<Record<string, unknown> & { choices?: Array<{ delta?: { content?: string; role?: string }; text?: string; finish_reason?: string | null }> }>;
  /** The text of choice 0, all chunks together. */
  text: string;
}

/** Reads a client's whole stream (well-formed single-line events, as the queen writes them). */
export async function readClientStream(response: Response): Promise<ReadStream> {
  const raw = await response.text();
  const data = raw
    .split("\n\n")
    .filter((event) => event.trim() !== "")
    .map((event) => event.replace(/^data: /, ""));
  const chunks = data.filter((item) => item !== "[DONE]").map((item) => JSON.parse(item) as ReadStream["chunks"][number]);
  const text = chunks.map((chunk) => chunk.choices?.map((choice) => choice.delta?.content ?? choice.text ?? "").join("") ?? "").join("");
  return { data, chunks, text };
}
