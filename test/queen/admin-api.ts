// Test helpers for the queen's admin API: call any route with a given key, and create keys.
import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { API_KEY } from "./hive-socket.js";

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface CreatedKey {
  id: string;
  object: string;
  name: string;
  scopes: string[];
  key: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  models: string[] | null;
}

/** Calls the queen; a non-string body is sent as JSON, a string body as it is. */
export function call(method: string, path: string, options: { key?: string; body?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? API_KEY}` };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  }
  return SELF.fetch(`https://queen${path}`, { method, headers, body });
}

/** Creates a key through POST /v1/keys with the admin key. */
export async function createKey(scopes: string[], extra: Record<string, unknown> = {}): Promise<CreatedKey> {
  const response = await call("POST", "/v1/keys", { body: { name: `test ${scopes.join("+")}`, scopes, ...extra } });
  if (response.status !== 201) throw new Error(`POST /v1/keys: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as CreatedKey;
}

export async function errorOf(response: Response): Promise<ErrorBody["error"]> {
  return ((await response.json()) as ErrorBody).error;
}

/** Calls GET `path?query` for each case and expects 400 invalid_parameter naming the case's parameter. */
export async function expectParameterRefusals(path: string, cases: ReadonlyArray<readonly [query: string, param: string]>): Promise<void> {
  for (const [query, param] of cases) {
    const response = await call("GET", `${path}?${query}`);
    expect(response.status, query).toBe(400);
    expect(await errorOf(response), query).toMatchObject({ code: "invalid_parameter", param });
  }
}

export interface UsageRow {
  key_id: string;
  key_name: string | null;
  day: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
}

/** The rows of GET /v1/usage?`query`, as the admin key reads them. */
export async function usageRows(query: string): Promise<UsageRow[]> {
  const response = await call("GET", `/v1/usage?${query}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: UsageRow[] }).data;
}

/** POST /v1/chat/completions for `model` with one user message, as `key`. */
export function chat(key: string, model: string, extra: Record<string, unknown> = {}): Promise<Response> {
  return call("POST", "/v1/chat/completions", { key, body: { model, messages: [{ role: "user", content: "hi" }], ...extra } });
}
