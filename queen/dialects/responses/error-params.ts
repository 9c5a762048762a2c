// Mounted on POST /v1/responses: an error body's `param` that names a field of the chat request
// the Responses request was served as is renamed to the Responses field (./responses-param.ts).
import { z } from "zod";
import { rewriteErrorBodies } from "../../http/error-body-rewrite.js";
import { responsesParam } from "./responses-param.js";

const ErrorWithParam = z.looseObject({ error: z.looseObject({ param: z.string() }) });

export const responsesErrorParams = rewriteErrorBodies((body) => {
  const parsed = ErrorWithParam.safeParse(body);
  if (!parsed.success) return undefined;
  const param = responsesParam(parsed.data.error.param);
  if (param === parsed.data.error.param) return undefined;
  return { ...parsed.data, error: { ...parsed.data.error, param } };
});
