// POST /v1/responses (the OpenAI Responses API), GET and DELETE /v1/responses/:id, GET
// /v1/responses/:id/input_items (input-items.ts), POST /v1/responses/input_tokens and POST
// /v1/responses/:id/cancel (a 400: rbee runs no background responses). A request is
// translated into a chat completion (to-chat.ts), after the stored conversation of its
// previous_response_id, and placed through the same relay core as /v1/chat/completions
// (routes/inference-relay.ts); the answer is translated back, whole or as typed events, and
// stored for the API key that made it (response-store.ts) unless `store` is false. Another key's
// response id reads as unknown: 404.
import { type Context, Hono } from "hono";
import { z } from "zod";
import { RbeeError } from "../../../shared/errors.js";
import { ChatCompletionRequest } from "../../../shared/openai/chat-request.js";
import { ignoredFieldsHeader } from "../../../shared/openai/ignored-fields.js";
import { parseRequest } from "../../../shared/validation.js";
import type { QueenEnv } from "../../env.js";
import { readJson } from "../../http/read-json.js";
import { relayInference } from "../../routes/inference-relay.js";
import { noteAskedModel } from "../../observability/inference-outcome.js";
import { meterUsage } from "../../usage/meter-usage.js";
import { translateAnswer, unsupportedField } from "../dialect-answer.js";
import { countPromptTokens } from "../prompt-tokens.js";
import { inputItemsPage, storedInputItems } from "./input-items.js";
import { InputItem, InputTokenCountRequest, ResponsesRequest } from "./request.js";
import { newResponseIdentity, responseFromChat, type ResponseObject } from "./response-object.js";
import { responseStoreStub } from "./response-store.js";
import { responsesStreamWriter } from "./stream.js";
import { inputItemsOf, responsesToChat } from "./to-chat.js";

const StoredItems = z.array(InputItem);

export const responsesRoutes = new Hono<QueenEnv>()
  .post("/", meterUsage, async (c) => {
    const arrivedAtMs = Date.now();
    const body = await readJson(c);
    noteAskedModel(c, body);
    const request = parseRequest(ResponsesRequest, body);
    const store = responseStoreStub(c.env, c.var.apiKey.id);
    const previousItems = request.previous_response_id ? await storedItems(store, request.previous_response_id) : [];
    const chat = parseRequest(ChatCompletionRequest, responsesToChat(request, previousItems));
    const identity = newResponseIdentity(request);
    const keep = async (response: ResponseObject): Promise<void> => {
      if (request.store === false || response.status === "failed") return;
      const items = [...previousItems, ...storedInputItems(inputItemsOf(request)), ...response.output];
      const kept = await store.put(identity.id, { response: JSON.stringify(response), items: JSON.stringify(items) }).catch((error: unknown) => {
        console.error(`could not store response ${identity.id}`, error);
        return false;
      });
      if (!kept) console.warn(`response ${identity.id} was not stored: its conversation is over the store's entry limit, or the store failed`);
    };
    const answer = await relayInference(c, chat, "/v1/chat/completions", arrivedAtMs, ignoredFieldsHeader(ResponsesRequest, body));
    const storedJson: { response?: ResponseObject } = {};
    const translated = await translateAnswer(answer, {
      json: (completion) => (storedJson.response = responseFromChat(identity, completion)),
      stream: (emit) => responsesStreamWriter(emit, identity, keep),
    });
    // A whole answer is stored before it is returned, so the next turn can follow at once.
    if (storedJson.response) await keep(storedJson.response);
    return translated;
  })
  // OpenAI's input token count, exact and generating nothing (../prompt-tokens.ts).
  .post("/input_tokens", meterUsage, async (c) => {
    const arrivedAtMs = Date.now();
    const body = await readJson(c);
    noteAskedModel(c, body);
    const request = parseRequest(InputTokenCountRequest, body);
    const previousItems = request.previous_response_id ? await storedItems(responseStoreStub(c.env, c.var.apiKey.id), request.previous_response_id) : [];
    const counted = await countPromptTokens(c, responsesToChat({ ...request, input: request.input ?? [] }, previousItems), arrivedAtMs);
    return counted.ok ? c.json({ object: "response.input_tokens", input_tokens: counted.tokens }) : counted.answer;
  })
  .get("/:id", async (c) => {
    // OpenAI replays a background response's events with `stream=true`; rbee keeps the response, not
    // its events, and an SDK would read a JSON answer to that as a stream of no events at all.
    if (c.req.query("stream") === "true") throw unsupportedField("stream", "rbee keeps a response, not the events it was streamed as; retrieve it without stream");
    const include = includedOf(c);
    if (include.length > 0) throw unsupportedField("include", `rbee has none of [${include.join(", ")}] to include`);
    const stored = await responseStoreStub(c.env, c.var.apiKey.id).get(c.req.param("id"));
    if (stored === null) throw responseNotFound(c.req.param("id"));
    return new Response(stored.response, { headers: { "content-type": "application/json" } });
  })
  .get("/:id/input_items", async (c) => {
    const id = c.req.param("id");
    const stored = await responseStoreStub(c.env, c.var.apiKey.id).get(id);
    if (stored === null) throw responseNotFound(id);
    const { output } = JSON.parse(stored.response) as { output: unknown[] };
    return c.json(inputItemsPage(id, JSON.parse(stored.items) as unknown[], output.length, (name) => c.req.query(name), includedOf(c)));
  })
  // OpenAI cancels only a background response; rbee runs none (`background: true` is refused), so
  // every stored response is done: a 400 that says so, as OpenAI answers a foreground one.
  .post("/:id/cancel", async (c) => {
    const id = c.req.param("id");
    if ((await responseStoreStub(c.env, c.var.apiKey.id).get(id)) === null) throw responseNotFound(id);
    throw new RbeeError(400, "invalid_request", `Response '${id}' is complete: only a background response can be cancelled, and rbee runs none (it answers while the client waits).`);
  })
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    if (!(await responseStoreStub(c.env, c.var.apiKey.id).remove(id))) throw responseNotFound(id);
    return c.json({ id, object: "response.deleted", deleted: true });
  });

async function storedItems(store: ReturnType<typeof responseStoreStub>, id: string): Promise<InputItem[]> {
  const stored = await store.get(id);
  if (stored === null) throw responseNotFound(id, "previous_response_id");
  return StoredItems.parse(JSON.parse(stored.items));
}

/** The `include` query parameter's values, as the SDKs write it (`include=…` or `include[]=…`, repeated). */
function includedOf(c: Context<QueenEnv>): string[] {
  return [...(c.req.queries("include") ?? []), ...(c.req.queries("include[]") ?? [])];
}

function responseNotFound(id: string, param?: string): RbeeError {
  return new RbeeError(404, "response_not_found", `No response '${id}' is stored for this API key (never stored, deleted, expired, or made with another key).`, param ? { param } : {});
}
