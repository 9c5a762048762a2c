// Mounted on POST /v1/responses and /v1/responses/input_tokens: an error body's `param` that names a field of the chat request
// the Responses request was served as is renamed to the Responses field (./responses-param.ts),
// in the message as in `param`.
import { z } from "zod";
import { rewriteErrorBodies } from "../../http/error-body-rewrite.js";
import { responsesParam } from "./responses-param.js";

/**
 * A field path in a message: `messages[1].tool_calls[0]`, `max_tokens`, `response_format.json_schema.schema`;
 * not a quoted name (a tool or a property called "messages" is the client's own word).
 */
const CHAT_PATH = /(?<![\w"'])[A-Za-z_][\w.[\]]*[\w\]](?![\w"'])/g;

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
