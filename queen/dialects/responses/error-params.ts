// Mounted on POST /v1/responses: an error body's `param` that names a field of the chat request
// the Responses request was served as is renamed to the Responses field (./responses-param.ts).
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import type { QueenEnv } from "../../env.js";
import { responsesParam } from "./responses-param.js";

const ErrorWithParam = z.looseObject({ error: z.looseObject({ param: z.string() }) });

export const responsesErrorParams = createMiddleware<QueenEnv>(async (c, next) => {
  await next();
  const response = c.res;
  if (response.ok || !(response.headers.get("content-type") ?? "").startsWith("application/json")) return;
  const parsed = ErrorWithParam.safeParse(await response.clone().json().catch(() => undefined));
  if (!parsed.success) return;
  const param = responsesParam(parsed.data.error.param);
  if (param === parsed.data.error.param) return;
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  const body = { ...parsed.data, error: { ...parsed.data.error, param } };
  // Cleared first: Hono's setter would copy the old response's headers (a stale length) onto the new one.
  c.res = undefined;
  c.res = new Response(JSON.stringify(body), { status: response.status, headers });
});
