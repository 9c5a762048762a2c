// The items of a stored response's conversation (GET /v1/responses/:id/input_items): what the
// model was given to make that response, its own previous turns through previous_response_id
// included, as OpenAI lists them (each item with an id and a status, a message's text as parts),
// newest first unless `order=asc`, `limit` at a time from the item named by `after`.
//
// Items get their ids as they are stored (storedInputItems), so a cursor names the same item on
// every call; the stored conversation is also the next turn's prompt (route.ts), which reads
// parts and strings alike.
import { z } from "zod";
import { newId } from "../../../shared/ids.js";
import { RbeeError } from "../../../shared/errors.js";
import { parseParam } from "../../http/parse-param.js";
import { pageLimit } from "../../http/list-page.js";
import { unsupportedField } from "../dialect-answer.js";
import type { InputItem } from "./request.js";
import { outputText } from "./response-object.js";

/** One item as the store keeps it: an input item with its id, status and text parts. */
export type StoredItem = Record<string, unknown> & { id: string; type: string };

/** `items` as they are stored: each with an id (kept when the client gave one) and a status. */
export function storedInputItems(items: readonly InputItem[]): StoredItem[] {
  return items.map((item): StoredItem => {
    const given = typeof item.id === "string" && item.id !== "" ? item.id : undefined;
    switch (item.type) {
      case "message": {
        const content = typeof item.content === "string" ? [textPart(item.role, item.content)] : item.content;
        return { ...item, id: given ?? newId("msg"), content, status: "completed" };
      }
      case "function_call":
        return { ...item, id: given ?? newId("fc"), status: typeof item.status === "string" ? item.status : "completed" };
      case "function_call_output":
        return { ...item, id: given ?? newId("fco"), status: "completed" };
      default:
        // Refused before anything is stored (to-chat.ts); kept as it came should that change.
        return { ...item, id: given ?? newId("msg") };
    }
  });
}

/** A message's text as the part OpenAI lists it with: the assistant's is output text. */
function textPart(role: string, text: string) {
  return role === "assistant" ? outputText(text) : { type: "input_text" as const, text };
}

const InputItemsQuery = {
  limit: pageLimit(20, 100),
  order: z.enum(["asc", "desc"], { error: "must be 'asc' or 'desc'" }).default("desc"),
  after: z.string().max(128).optional(),
};

export interface InputItemsPage {
  object: "list";
  data: unknown[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/**
 * The page of `conversation` (a stored response's items, its output last) that `query` asks
 * for; its last `outputCount` items are the response's own output, not its input.
 */
export function inputItemsPage(responseId: string, conversation: readonly unknown[], outputCount: number, query: (name: string) => string | undefined, include: readonly string[]): InputItemsPage {
  if (include.length > 0) throw unsupportedField("include", `rbee has none of [${include.join(", ")}] to include`);
  const limit = parseParam("limit", InputItemsQuery.limit, query("limit"));
  const order = parseParam("order", InputItemsQuery.order, query("order"));
  const after = parseParam("after", InputItemsQuery.after, query("after"));
  const inputs = conversation.slice(0, Math.max(0, conversation.length - outputCount)).map((item, index) => withId(item, responseId, index));
  const ordered = order === "asc" ? inputs : inputs.reverse();
  let start = 0;
  if (after !== undefined) {
    const at = ordered.findIndex((item) => item.id === after);
    if (at === -1) throw new RbeeError(400, "invalid_parameter", `Parameter 'after' names no input item of response '${responseId}'; got '${after}'.`, { param: "after" });
    start = at + 1;
  }
  const data = ordered.slice(start, start + limit);
  return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + limit < ordered.length };
}

/** An item with its id: one stored before items had ids gets one made of its place, the same on every call. */
function withId(item: unknown, responseId: string, index: number): { id: string } & Record<string, unknown> {
  const record = typeof item === "object" && item !== null ? (item as Record<string, unknown>) : { value: item };
  return typeof record.id === "string" ? (record as { id: string }) : { ...record, id: `${responseId}_item${index}` };
}
