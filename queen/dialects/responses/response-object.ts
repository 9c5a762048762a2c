// The Responses API's `response` object and its output items, built in one place for the
// non-streamed answer, the events of a streamed one (stream.ts) and the stored copy that GET
// /v1/responses/:id returns (response-store.ts).
import { newId } from "../../../shared/ids.js";
import type { ChatCompletionAnswer, ChatUsage } from "../chat-shapes.js";
import type { ResponsesRequest } from "./request.js";

export interface OutputText {
  type: "output_text";
  text: string;
  annotations: never[];
  logprobs: never[];
}

export type OutputItem =
  | { type: "message"; id: string; status: ItemStatus; role: "assistant"; content: OutputText[] }
  | { type: "function_call"; id: string; status: ItemStatus; call_id: string; name: string; arguments: string };
export type ItemStatus = "in_progress" | "completed" | "incomplete";

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

/** What every form of one response has in common. */
export interface ResponseIdentity {
  id: string;
  /** Unix seconds. */
  createdAt: number;
  request: ResponsesRequest;
}

export function newResponseIdentity(request: ResponsesRequest): ResponseIdentity {
  return { id: newId("resp"), createdAt: Math.floor(Date.now() / 1000), request };
}

export function outputText(text: string): OutputText {
  return { type: "output_text", text, annotations: [], logprobs: [] };
}

export function messageItem(id: string, status: ItemStatus, text: string | undefined): OutputItem {
  return { type: "message", id, status, role: "assistant", content: text === undefined ? [] : [outputText(text)] };
}

export interface ResponseEnd {
  usage?: ChatUsage;
  finishReason?: string;
  error?: { code: string; message: string };
}

export type ResponseObject = ReturnType<typeof responseObject>;

export function responseObject(identity: ResponseIdentity, status: ResponseStatus, output: OutputItem[], end: ResponseEnd = {}) {
  const { request } = identity;
  const usage = end.usage;
  return {
    id: identity.id,
    object: "response" as const,
    created_at: identity.createdAt,
    // Unix seconds, as created_at: a response is made once it is over, and is never completed later.
    completed_at: status === "completed" ? Math.floor(Date.now() / 1000) : null,
    status,
    background: false,
    error: end.error ?? null,
    incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" as const } : null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    max_tool_calls: null,
    model: request.model,
    output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    service_tier: "default",
    store: request.store ?? true,
    temperature: request.temperature ?? 1,
    text: { format: request.text?.format ?? { type: "text" }, verbosity: "medium" },
    tool_choice: request.tool_choice ?? "auto",
    tools: request.tools ?? [],
    top_logprobs: 0,
    top_p: request.top_p ?? 1,
    truncation: "disabled",
    usage:
      usage === undefined
        ? null
        : {
            input_tokens: usage.prompt_tokens,
            input_tokens_details: { cached_tokens: Math.min(usage.prompt_tokens_details?.cached_tokens ?? 0, usage.prompt_tokens) },
            output_tokens: usage.completion_tokens,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: usage.prompt_tokens + usage.completion_tokens,
          },
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

/** A finished response's status from its chat finish reason. */
export function finishedStatus(finishReason: string | undefined): ResponseStatus {
  return finishReason === "length" ? "incomplete" : "completed";
}

/** The response for a whole chat completion. */
export function responseFromChat(identity: ResponseIdentity, answer: ChatCompletionAnswer): ResponseObject {
  const choice = answer.choices[0];
  const text = choice?.message.content ?? "";
  const calls = choice?.message.tool_calls ?? [];
  const status = finishedStatus(choice?.finish_reason ?? undefined);
  const output: OutputItem[] = [];
  if (text !== "" || calls.length === 0) output.push(messageItem(newId("msg"), "completed", text));
  for (const call of calls) {
    output.push({ type: "function_call", id: newId("fc"), status: "completed", call_id: call.id, name: call.function.name, arguments: call.function.arguments });
  }
  // The token limit cut what was being written last: the message's text, or a call's arguments.
  const last = output.at(-1);
  if (status === "incomplete" && last) last.status = "incomplete";
  return responseObject(identity, status, output, answer.usage ? { usage: answer.usage } : {});
}
