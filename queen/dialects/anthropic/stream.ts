// Writes a chat stream as Anthropic's Messages stream: message_start (with the prompt's tokens, as
// Anthropic's names them, when the worker's head did) and a ping, then per content
// block content_block_start, its deltas (text_delta, or input_json_delta for a tool call's
// arguments) and content_block_stop, then message_delta with the stop reason and usage, and
// message_stop. A failed stream ends with Anthropic's `error` event.
import type { OpenAiErrorBody } from "../../../shared/errors.js";
import type { ChatStreamListener, EmitEvent } from "../chat-stream-reader.js";
import { anthropicErrorType, messageWithCode } from "./error-shape.js";
import { anthropicUsage, newMessageId, stopOf } from "./from-chat.js";

export function anthropicStreamWriter(emit: EmitEvent, model: string, promptTokens = 0): ChatStreamListener {
  let blockIndex = -1;
  let open: { kind: "text" } | { kind: "tool"; call: number } | undefined;
  const close = () => {
    if (open === undefined) return;
    emit("content_block_stop", { type: "content_block_stop", index: blockIndex });
    open = undefined;
  };
  const begin = (block: NonNullable<typeof open>, contentBlock: unknown) => {
    close();
    blockIndex += 1;
    open = block;
    emit("content_block_start", { type: "content_block_start", index: blockIndex, content_block: contentBlock });
  };
  return {
    start() {
      const message = { id: newMessageId(), type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: anthropicUsage(promptTokens, 0) };
      emit("message_start", { type: "message_start", message });
      emit("ping", { type: "ping" });
    },
    text(text) {
      if (open?.kind !== "text") begin({ kind: "text" }, { type: "text", text: "" });
      emit("content_block_delta", { type: "content_block_delta", index: blockIndex, delta: { type: "text_delta", text } });
    },
    toolCallStart(index, id, name) {
      begin({ kind: "tool", call: index }, { type: "tool_use", id, name, input: {} });
    },
    toolCallArguments(index, fragment) {
      // Fragments of one call arrive together; a fragment of another call than the open block has none to go to.
      if (open?.kind !== "tool" || open.call !== index) return;
      emit("content_block_delta", { type: "content_block_delta", index: blockIndex, delta: { type: "input_json_delta", partial_json: fragment } });
    },
    error(body: OpenAiErrorBody) {
      close();
      emit("error", { type: "error", error: { type: anthropicErrorType(statusOfType(body.error.type)), message: messageWithCode(body.error.message, body.error.code) } });
    },
    end({ finishReason, stopSequence, usage }) {
      close();
      emit("message_delta", {
        type: "message_delta",
        delta: stopOf(finishReason, stopSequence),
        usage: anthropicUsage(usage?.prompt_tokens ?? 0, usage?.completion_tokens ?? 0),
      });
      emit("message_stop", { type: "message_stop" });
    },
  };
}

/** A status for an OpenAI error type met mid-stream, where no status travels. */
function statusOfType(type: string): number {
  if (type === "invalid_request_error") return 400;
  if (type === "rate_limit_error") return 429;
  return 500;
}
