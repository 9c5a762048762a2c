// The request that asks another worker to continue an answer the client is already reading:
// chat gets the original messages plus the text so far as the assistant's message (which the
// worker continues, a "prefill", generating only the new text); a legacy completion gets the
// prompt plus the text so far, with `rbee_answer_chars` saying how much of it is that text (the
// worker reads it as plain text, where it parses special tokens in the client's own). Sampling
// stays as it was; the token budget shrinks by the tokens already sent. spliced-stream.ts builds
// one each time a worker is lost mid-answer.
import { ChatCompletionRequest, type ChatMessage, messageText, offersTools } from "../../shared/openai/chat-request.js";
import { CompletionRequest, promptText } from "../../shared/openai/completion-request.js";
import type { StreamTranscript } from "./stream-transcript.js";

/** The paths whose streamed answers can be continued. */
export type ContinuablePath = "/v1/chat/completions" | "/v1/completions";

/** A validated request, with the path that tells which kind it is. */
export type ContinuableRequest =
  | { path: "/v1/chat/completions"; request: ChatCompletionRequest }
  | { path: "/v1/completions"; request: CompletionRequest };

/**
 * OpenAI's default `max_tokens` for legacy completions, which the worker applies too (except
 * with a JSON response format, where the answer decides its length): the continuation must not
 * get a fresh 16 on top of the tokens already sent.
 */
const COMPLETION_DEFAULT_MAX_TOKENS = 16;

/**
 * The request typed by its path, when it is a streamed chat or completion (the only answers a
 * continuation can pick up); undefined otherwise. The route validated it already: this only
 * recovers its type from the route's generic `{ model }`.
 */
export function asContinuable(path: string, request: unknown): ContinuableRequest | undefined {
  if (path === "/v1/chat/completions") {
    const parsed = ChatCompletionRequest.safeParse(request);
    // A tool call cut off mid-arguments cannot be continued as text: such an answer is not continued.
    return parsed.success && parsed.data.stream && !offersTools(parsed.data) ? { path, request: parsed.data } : undefined;
  }
  if (path === "/v1/completions") {
    const parsed = CompletionRequest.safeParse(request);
    return parsed.success && parsed.data.stream ? { path, request: parsed.data } : undefined;
  }
  return undefined;
}

export type Continuation =
  | { kind: "request"; body: string }
  /** The answer already used its whole token budget: it ends with finish_reason `length`. */
  | { kind: "budget_spent" };

export function continuationRequest(original: ContinuableRequest, transcript: StreamTranscript): Continuation {
  const sent = transcript.tokensEstimate;
  if (original.path === "/v1/chat/completions") {
    const { request } = original;
    const budget = request.max_completion_tokens ?? request.max_tokens ?? undefined;
    if (budget !== undefined && budget - sent <= 0) return { kind: "budget_spent" };
    const continued: ChatCompletionRequest = { ...request, messages: withAssistantText(request.messages, transcript.text) };
    // Both fields shrink to the same remainder: the worker reads max_completion_tokens first.
    if (budget !== undefined && request.max_completion_tokens != null) continued.max_completion_tokens = budget - sent;
    if (budget !== undefined && request.max_tokens != null) continued.max_tokens = budget - sent;
    return { kind: "request", body: JSON.stringify(continued) };
  }
  const { request } = original;
  const usesGrammar = request.response_format != null && request.response_format.type !== "text";
  const budget = request.max_tokens ?? (usesGrammar ? undefined : COMPLETION_DEFAULT_MAX_TOKENS);
  if (budget !== undefined && budget - sent <= 0) return { kind: "budget_spent" };
  // With a suffix the new worker fills in what is left of the gap: after the text so far, before the suffix.
  const continued: CompletionRequest = {
    ...request,
    prompt: promptText(request) + transcript.text,
    rbee_answer_chars: (request.rbee_answer_chars ?? 0) + transcript.text.length,
  };
  if (budget !== undefined) continued.max_tokens = budget - sent;
  return { kind: "request", body: JSON.stringify(continued) };
}

/**
 * The messages with `text` appended to the assistant's answer: to the client's own last
 * assistant message when it prefilled one (the worker continues that), else as a new one.
 * Nothing streamed yet: the messages as they were.
 */
function withAssistantText(messages: ChatMessage[], text: string): ChatMessage[] {
  if (text === "") return messages;
  const last = messages.at(-1);
  if (last?.role === "assistant") return [...messages.slice(0, -1), { ...last, content: messageText(last) + text }];
  return [...messages, { role: "assistant", content: text }];
}
