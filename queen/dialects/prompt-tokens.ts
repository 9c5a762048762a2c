// How many tokens a dialect request's prompt is: Anthropic's POST /v1/messages/count_tokens and
// OpenAI's POST /v1/responses/input_tokens. A worker of the model templates and tokenizes the
// prompt as it would for an answer, tools included, without generating (INPUT_TOKENS_PATH), so a
// count bills nothing and a prompt too long for the context is counted too. A hive or worker of a
// version before that count answers 404 not_found, and the count is made the old way: a one-token
// chat, whose usage the key pays.
import type { Context } from "hono";
import { z } from "zod";
import { RbeeError } from "../../shared/errors.js";
import { ChatCompletionRequest } from "../../shared/openai/chat-request.js";
import { INPUT_TOKENS_PATH } from "../../shared/protocol/hive-frames.js";
import { parseRequest } from "../../shared/validation.js";
import type { QueenEnv } from "../env.js";
import { relayInference } from "../routes/inference-relay.js";
import { ChatCompletionAnswer, type ChatRequestOut } from "./chat-shapes.js";

/** The prompt's tokens, or the refusal to pass on (no worker of the model, a prompt the worker refused). */
export type PromptCount = { ok: true; tokens: number } | { ok: false; answer: Response };

/** The worker's answer at INPUT_TOKENS_PATH (worker/routes/chat-input-tokens.ts). */
const InputTokensAnswer = z.object({ input_tokens: z.number().int().nonnegative() });

export async function countPromptTokens(c: Context<QueenEnv>, prompt: ChatRequestOut, arrivedAtMs: number): Promise<PromptCount> {
  const { max_tokens: _budget, stream: _stream, stream_options: _options, ...counted } = prompt;
  const answer = await relayInference(c, parseRequest(ChatCompletionRequest, counted), INPUT_TOKENS_PATH, arrivedAtMs);
  if (!(await lacksCountRoute(answer))) {
    if (!answer.ok) return { ok: false, answer };
    return { ok: true, tokens: countOf(InputTokensAnswer.safeParse(await answer.json()).data?.input_tokens) };
  }
  const chat = await relayInference(c, parseRequest(ChatCompletionRequest, { ...counted, max_tokens: 1 }), "/v1/chat/completions", arrivedAtMs);
  if (!chat.ok) return { ok: false, answer: chat };
  return { ok: true, tokens: countOf(ChatCompletionAnswer.safeParse(await chat.json()).data?.usage?.prompt_tokens) };
}

function countOf(tokens: number | undefined): number {
  if (tokens === undefined) throw new RbeeError(502, "worker_answer_malformed", "The worker's answer carried no token count.");
  return tokens;
}

/** The answer is a hive's or a worker's 404 for a path it does not have (not a model the queen does not know). */
async function lacksCountRoute(answer: Response): Promise<boolean> {
  if (answer.status !== 404) return false;
  const body = (await answer.clone().json().catch(() => undefined)) as { error?: { code?: unknown } } | undefined;
  if (body?.error?.code !== "not_found") return false;
  await answer.body?.cancel();
  return true;
}
