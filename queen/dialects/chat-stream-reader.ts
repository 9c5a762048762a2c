// Turns a relayed chat-completion stream (OpenAI `data:` chunks, after failover and redaction)
// into a dialect's own server-sent events: the chunks are read as a few meaningful happenings
// (text, a tool call starting, its argument fragments, an error, the end with the finish reason
// and usage) that a dialect's stream writer (responses/stream.ts, anthropic/stream.ts) answers
// with events of its own. Pull-based like streams/tap-stream.ts, so a client's cancel reaches
// the relayed body (and through it the worker). The comment a stream waiting for a worker carries
// (streams/early-stream-head.ts) passes through, so that a dialect's client that leaves is noticed too.
import type { OpenAiErrorBody } from "../../shared/errors.js";
import { errorBodyOf } from "../client-errors/error-body.js";
import { WAITING_COMMENT } from "../streams/early-stream-head.js";
import { SseDataReader } from "../streams/sse-data-reader.js";
import { ChatCompletionChunk, type ChatUsage } from "./chat-shapes.js";

/** What a dialect's stream writer does with each happening of a chat stream. */
export interface ChatStreamListener {
  /** Before the first chunk: the stream's opening events. */
  start(): void;
  text(text: string): void;
  /** Tool call `index` begins: its id and function name (the first fragment carries both). */
  toolCallStart(index: number, id: string, name: string): void;
  toolCallArguments(index: number, fragment: string): void;
  /** The stream failed (a worker's error, or no worker could continue it): the last happening. */
  error(body: OpenAiErrorBody, summary: ChatStreamSummary): void;
  /**
   * The stream ended normally (`[DONE]`, or its end): the closing events. When it returns a
   * promise, the events are held back until it settles (the Responses route stores the response
   * first, so a client that reads `response.completed` can continue it at once).
   */
  end(summary: ChatStreamSummary): void | Promise<void>;
}

/** What the stream said of itself by its end: the finish reason and the usage chunk. */
export interface ChatStreamSummary {
  finishReason?: string;
  /** The stop string that ended the answer, when one did. */
  stopSequence?: string;
  usage?: ChatUsage;
}

/** Writes one event of the dialect's stream: `event: <name>` and its JSON data. */
export type EmitEvent = (name: string, data: unknown) => void;

const encoder = new TextEncoder();
const WAITING_COMMENT_BYTES = encoder.encode(WAITING_COMMENT);

function isWaitingComment(chunk: Uint8Array): boolean {
  return chunk.byteLength === WAITING_COMMENT_BYTES.byteLength && chunk.every((byte, index) => byte === WAITING_COMMENT_BYTES[index]);
}

export function translateChatStream(source: ReadableStream<Uint8Array>, makeListener: (emit: EmitEvent) => ChatStreamListener): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let pending = "";
  const emit: EmitEvent = (name, data) => {
    pending += `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  };
  const listener = makeListener(emit);
  const happenings = new ChunkHappenings(listener);
  const sse = new SseDataReader({ onData: (data) => happenings.onData(data) });
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        listener.start();
        controller.enqueue(encoder.encode(pending));
        pending = "";
      },
      async pull(controller) {
        // Loop until something is enqueued: a pull that enqueues nothing is not called again.
        for (;;) {
          const { done, value } = await reader.read();
          // A waiting stream's comment passes as it is: the write is how a client that left is noticed.
          if (!done && pending === "" && isWaitingComment(value)) {
            controller.enqueue(value);
            return;
          }
          if (done) {
            sse.end();
            happenings.close();
          } else {
            sse.push(value);
          }
          await happenings.settled();
          if (pending !== "") {
            controller.enqueue(encoder.encode(pending));
            pending = "";
          }
          if (done) {
            controller.close();
            return;
          }
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Reads chunks into happenings, once each: tool calls are told apart by their index. */
class ChunkHappenings {
  private readonly startedCalls = new Set<number>();
  private readonly summary: ChatStreamSummary = {};
  private over = false;
  private ending: Promise<void> | undefined;

  constructor(private readonly listener: ChatStreamListener) {}

  onData(data: string): void {
    if (this.over) return;
    if (data.trim() === "[DONE]") return this.close();
    const error = errorBodyOf(data);
    if (error) {
      this.over = true;
      return this.listener.error(error, this.summary);
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return; // a fragment of a stream cut mid-event: failover's error event follows it
    }
    const chunk = ChatCompletionChunk.safeParse(json);
    if (!chunk.success) return;
    for (const choice of chunk.data.choices) {
      const content = choice.delta?.content;
      if (content) this.listener.text(content);
      for (const call of choice.delta?.tool_calls ?? []) {
        if (!this.startedCalls.has(call.index)) {
          this.startedCalls.add(call.index);
          this.listener.toolCallStart(call.index, call.id ?? `call_${call.index}`, call.function?.name ?? "");
        }
        const fragment = call.function?.arguments;
        if (fragment) this.listener.toolCallArguments(call.index, fragment);
      }
      if (choice.finish_reason) this.summary.finishReason = choice.finish_reason;
      if (choice.stop_reason) this.summary.stopSequence = choice.stop_reason;
    }
    if (chunk.data.usage) this.summary.usage = chunk.data.usage;
  }

  close(): void {
    if (this.over) return;
    this.over = true;
    const ending = this.listener.end(this.summary);
    if (ending) this.ending = ending;
  }

  /** Waits for the listener's end work, if any is under way. */
  async settled(): Promise<void> {
    const ending = this.ending;
    this.ending = undefined;
    await ending;
  }
}
