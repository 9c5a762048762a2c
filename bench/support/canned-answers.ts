// The answers the simulated hives of bench/ give in a worker's place, in a worker's shapes: the
// same bytes whichever path carries them, so that two paths compared differ only in the path.

/** A non-streamed chat completion of one token, with its usage, as a worker answers it. */
export const ONE_TOKEN_ANSWER = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_764_800_000,
  model: "bench",
  choices: [{ index: 0, message: { role: "assistant", content: "a" }, finish_reason: "length" }],
  usage: { prompt_tokens: 12, completion_tokens: 1, total_tokens: 13 },
});

/** Event `index` of a streamed chat completion: a chunk with a few tokens of text, as a hive's coalesced frame carries them. */
export function streamEvent(index: number): string {
  const chunk = {
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created: 1_764_800_000,
    model: "bench",
    choices: [{ index: 0, delta: { content: ` bee${index} buzz buzz buzz` }, logprobs: null, finish_reason: null }],
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** The last event of a stream. */
export const STREAM_DONE = "data: [DONE]\n\n";

/** One piece of an answer, in no protocol's shape: each simulated hive puts it in its own frames. */
export type AnswerPart = { head: { status: number; contentType: string } } | { chunk: string } | { end: true };

/** When a simulated worker answers. */
export interface AnswerTiming {
  /** From the request to the answer's first part (a real worker's time to its first token), ms; 0: at once. */
  firstAfterMs: number;
  /** Between two parts of a streamed answer, ms (as the hive's FlushTick spaces a fast worker's text). */
  frameGapMs: number;
}

/**
 * Answers a chat request's `body` as a worker would: a non-streamed request gets one token (head,
 * body and end together); a stream asking `max_tokens` N gets its head and first event together,
 * N − 1 more events one at a time, then [DONE] and the end, `timing.frameGapMs` apart. The first
 * part goes `timing.firstAfterMs` after the call; `later` runs a step after so many ms.
 */
export function playAnswer(body: string, send: (parts: AnswerPart[]) => void, timing: AnswerTiming, later: (step: () => void, ms: number) => void): void {
  const request = JSON.parse(body) as { stream?: boolean; max_tokens?: number };
  const start = () => {
    if (!request.stream) {
      send([{ head: { status: 200, contentType: "application/json" } }, { chunk: ONE_TOKEN_ANSWER }, { end: true }]);
      return;
    }
    const events = Math.max(1, request.max_tokens ?? 1);
    send([{ head: { status: 200, contentType: "text/event-stream" } }, { chunk: streamEvent(0) }]);
    let sent = 1;
    const next = () => {
      if (sent < events) {
        send([{ chunk: streamEvent(sent) }]);
        sent += 1;
        later(next, timing.frameGapMs);
      } else {
        send([{ chunk: STREAM_DONE }, { end: true }]);
      }
    };
    later(next, timing.frameGapMs);
  };
  if (timing.firstAfterMs > 0) later(start, timing.firstAfterMs);
  else start();
}
