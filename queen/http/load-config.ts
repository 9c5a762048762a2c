// Hono middleware that runs before every route: it hands the routes the queen's configuration,
// parsed once per isolate (config.ts). A bad var fails every request with 500
// `invalid_configuration` naming it, rather than the queen running on a silent fallback.
import { createMiddleware } from "hono/factory";
import { queenConfig } from "../config.js";
import type { QueenEnv } from "../env.js";

export const loadConfig = createMiddleware<QueenEnv>(async (c, next) => {
  c.set("config", queenConfig(c.env));
  await next();
});
