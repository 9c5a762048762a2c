// Writes a chat stream as the Responses API's typed events, each with its sequence_number:
// response.created and response.in_progress; per output item response.output_item.added, then
// for a message response.content_part.added, response.output_text.delta… and .done,
// response.content_part.done, or for a function call response.function_call_arguments.delta…
// and .done; response.output_item.done; and response.completed (response.incomplete when the
// token limit cut it, response.failed when the stream failed; the item being written then is
// incomplete). The finished response goes to
// `onFinished` (the route stores it for previous_response_id), and the closing event waits for it.
import { newId } from "../../../shared/ids.js";
import type { OpenAiErrorBody } from "../../../shared/errors.js";
import type { ChatStreamListener, EmitEvent } from "../chat-stream-reader.js";
import { finishedStatus, messageItem, type OutputItem, outputText, type ResponseIdentity, type ResponseObject, responseObject } from "./response-object.js";

type OpenItem = { kind: "message"; id: string; text: string } | { kind: "call"; id: string; index: number; callId: string; name: string; arguments: string };

export function responsesStreamWriter(emitEvent: EmitEvent, identity: ResponseIdentity, onFinished: (response: ResponseObject) => Promise<void>): ChatStreamListener {
  let sequence = 0;
  const emit = (type: string, fields: Record<string, unknown>) => emitEvent(type, { type, sequence_number: sequence++, ...fields });
  const output: OutputItem[] = [];
  let open: OpenItem | undefined;
  // Only the last item can close incomplete: the token limit, or a failure, cut what was being written then.
  const close = (status: "completed" | "incomplete" = "completed") => {
    if (open === undefined) return;
    const outputIndex = output.length;
    const item_id = open.id;
    let item: OutputItem;
    if (open.kind === "message") {
      const { text } = open;
      emit("response.output_text.done", { item_id, output_index: outputIndex, content_index: 0, text, logprobs: [] });
      emit("response.content_part.done", { item_id, output_index: outputIndex, content_index: 0, part: outputText(text) });
      item = messageItem(item_id, status, text);
    } else {
      emit("response.function_call_arguments.done", { item_id, output_index: outputIndex, name: open.name, arguments: open.arguments });
      item = { type: "function_call", id: item_id, status, call_id: open.callId, name: open.name, arguments: open.arguments };
    }
    emit("response.output_item.done", { output_index: outputIndex, item });
    output.push(item);
    open = undefined;
  };

  return {
    start() {
      const response = responseObject(identity, "in_progress", []);
      emit("response.created", { response });
      emit("response.in_progress", { response });
    },
    text(text) {
      if (open?.kind !== "message") {
        close();
        open = { kind: "message", id: newId("msg"), text: "" };
        emit("response.output_item.added", { output_index: output.length, item: messageItem(open.id, "in_progress", undefined) });
        emit("response.content_part.added", { item_id: open.id, output_index: output.length, content_index: 0, part: outputText("") });
      }
      open.text += text;
      emit("response.output_text.delta", { item_id: open.id, output_index: output.length, content_index: 0, delta: text, logprobs: [] });
    },
    toolCallStart(index, id, name) {
      close();
      open = { kind: "call", id: newId("fc"), index, callId: id, name, arguments: "" };
      const item = { type: "function_call", id: open.id, status: "in_progress", call_id: id, name, arguments: "" };
      emit("response.output_item.added", { output_index: output.length, item });
    },
    toolCallArguments(index, fragment) {
      // Fragments of one call arrive together; one of another call than the open item has no item to go to.
      if (open?.kind !== "call" || open.index !== index) return;
      open.arguments += fragment;
      emit("response.function_call_arguments.delta", { item_id: open.id, output_index: output.length, delta: fragment });
    },
    error(body: OpenAiErrorBody, { usage }) {
      close("incomplete");
      const error = { code: body.error.code ?? "server_error", message: body.error.message };
      emit("response.failed", { response: responseObject(identity, "failed", output, { error, ...(usage ? { usage } : {}) }) });
    },
    end({ finishReason, usage }) {
      const status = finishedStatus(finishReason);
      close(status === "incomplete" ? "incomplete" : "completed");
      const response = responseObject(identity, status, output, usage ? { usage } : {});
      emit(status === "incomplete" ? "response.incomplete" : "response.completed", { response });
      return onFinished(response);
    },
  };
}
