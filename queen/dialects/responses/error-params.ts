// Mounted on POST /v1/responses and /v1/responses/input_tokens: an error body's `param` that names a field of the chat request
// the Responses request was served as is renamed to the Responses field (./responses-param.ts),
// in the message as in `param`.
import { z } from "zod";
import { rewriteErrorBodies } from "../../http/error-body-rewrite.js";
import { responsesParam } from "./responses-param.js";

/**
 * A chat request's field path in a message, of the fields RENAMES knows (responses-param.ts):
 * `messages`, `messages[1].tool_calls[0]`, `max_tokens`, `response_format.json_schema.schema`,
 * `tools[0].function.parameters`, `tool_choice.function.name`; not inside a longer word, a quoted
 * name or a path of the client's (a tool called "messages", `/models/messages.gguf`, `messages-7b`).
 */
const CHAT_PATH = /(?<![\w"'`/.:-])(?:messages(?:\[\d+\])?|max_(?:completion_)?tokens|response_format|tools\[\d+\]|tool_choice)(?:(?:\.\w+)|(?:\[\d+\]))*(?![\w"'`/-])/g;

const ErrorWithParam = z.looseObject({ error: z.looseObject({ param: z.string(), message: z.string().optional() }) });

export const responsesErrorParams = rewriteErrorBodies((body) => {
  const parsed = ErrorWithParam.safeParse(body);
  if (!parsed.success) return undefined;
  const { error } = parsed.data;
  const param = responsesParam(error.param);
  if (param === error.param) return undefined;
  // The message names the field too, often a path below it ("….schema.properties.age.minimum"),
  // and sometimes others ("… in the messages + 10 to generate" for max_tokens): each chat path
  // in it is renamed as the param is.
  const message = error.message?.replace(CHAT_PATH, (path) => responsesParam(path));
  return { ...parsed.data, error: { ...error, param, ...(message === undefined ? {} : { message }) } };
});
