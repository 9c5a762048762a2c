// How a dialect route (responses/route.ts, anthropic/route.ts) gives the relay core's answer
// (routes/inference-relay.ts, OpenAI chat shapes) back in its own shape: a chat completion's
// JSON is translated whole, a chat stream event by event (chat-stream-reader.ts), and an error
// passes as it is (the Anthropic route reshapes errors for the whole path, anthropic/errors.ts).
// Status and the route headers (Server-Timing, x-rbee-*) are kept.
import { RbeeError } from "../../shared/errors.js";
import { promptTokensOf } from "../../shared/openai/inference-headers.js";
import { isEventStream } from "../http/event-stream.js";
import { ChatCompletionAnswer } from "./chat-shapes.js";
import { type ChatStreamListener, type EmitEvent, translateChatStream } from "./chat-stream-reader.js";

export interface AnswerTranslation {
  /** The dialect's JSON for a whole chat completion. */
  json(answer: ChatCompletionAnswer): unknown;
  /** The dialect's stream writer for a chat stream; `promptTokens` as the stream's head named them, if it did. */
  stream(emit: EmitEvent, promptTokens: number | undefined): ChatStreamListener;
}

export async function translateAnswer(response: Response, translation: AnswerTranslation): Promise<Response> {
  if (!response.ok || !response.body) return response;
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  if (isEventStream(response)) {
    const promptTokens = promptTokensOf(response.headers);
    return new Response(translateChatStream(response.body, (emit) => translation.stream(emit, promptTokens)), { status: response.status, headers });
  }
  const parsed = ChatCompletionAnswer.safeParse(await response.json());
  if (!parsed.success) throw new RbeeError(502, "worker_answer_malformed", "The worker's chat completion could not be read for translation.");
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify(translation.json(parsed.data)), { status: response.status, headers });
}

/** `text` parsed as a tool call's JSON arguments; the worker's grammar makes them JSON. */
export function parseToolArguments(text: string): unknown {
  try {
    return JSON.parse(text === "" ? "{}" : text);
  } catch {
    throw new RbeeError(502, "tool_arguments_malformed", `The model's tool call arguments are not JSON: ${text.slice(0, 200)}`);
  }
}

/** The 400 for a field of a dialect rbee does not honour: named, never silently dropped. */
export function unsupportedField(param: string, why: string): RbeeError {
  return new RbeeError(400, "unsupported_field", `${param} is not supported by rbee: ${why}`, { param });
}
