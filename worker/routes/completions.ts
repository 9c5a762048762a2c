// POST /v1/completions: OpenAI's legacy text completion (a prompt continued), streamed or not,
// on one of the engine's slots.
import { CompletionRequest } from "../../shared/openai/completion-request.js";
import { readJsonBody } from "../../shared/http/json-body.js";
import { parseRequest } from "../../shared/validation.js";
import { newCompletionIdentity } from "../chat-completion-shapes.js";
import type { ClientFinishReason } from "../completion-result.js";
import { textCompletion, textCompletionChunk, textUsageChunk } from "../text-completion-shapes.js";
import { streamGeneration } from "./event-stream.js";
import { clientGoneSignal, nobodyListening, type RouteHandler } from "./route-context.js";

export const completions: RouteHandler = async (c, context) => {
  const completionRequest = parseRequest(CompletionRequest, await readJsonBody(c));
  const signal = clientGoneSignal(c);
  const identity = newCompletionIdentity(context.modelName, "cmpl");

  if (completionRequest.stream) {
    const chunks = {
      // Legacy completion streams have no role chunk: the first event already carries text.
      opening: undefined,
      text: (text: string) => textCompletionChunk(identity, text, null),
      finish: (reason: ClientFinishReason, stopSequence: string | undefined) => textCompletionChunk(identity, "", reason, stopSequence),
      usage: completionRequest.stream_options?.include_usage ? textUsageChunk.bind(null, identity) : undefined,
    };
    return streamGeneration(c, chunks, ({ onTextChunk, onPromptTokens }) => context.engine.complete(completionRequest, { signal, onTextChunk, onPromptTokens }), context);
  }
  const completion = await context.engine.complete(completionRequest, { signal });
  if (completion.finishReason === "abort") return nobodyListening(c);
  return c.json(textCompletion(identity, completion.text, completion.finishReason, completion.usage, completion.stopSequence));
};
