// The `rbee` CLI's HTTP client for the queen: adds the key, parses answers with the caller's zod
// schema, and turns every failure into a CliError that says what to do next (exit 3 when the
// queen cannot be reached or refuses the key, 1 when it refuses the request).
import type { z } from "zod";
import { describeError } from "../shared/errors.js";
import { CliError, EXIT } from "./cli-error.js";
import type { QueenTarget } from "./config.js";

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

export class QueenApi {
  constructor(readonly target: QueenTarget) {}

  async call<T extends z.ZodType>(schema: T, method: string, path: string, options: RequestOptions = {}): Promise<z.infer<T>> {
    const response = await this.send(method, path, options);
    const json: unknown = await response.json().catch(() => undefined);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new CliError(EXIT.failed, "unexpected_answer", `the queen's answer to ${method} ${path} is not what this rbee expects: is the queen the same version? (${parsed.error.issues[0]?.message ?? "no JSON"})`);
    }
    return parsed.data;
  }

  /** The raw response of a request that succeeded (2xx), for streams; the caller reads the body. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = new URL(this.target.queenUrl + path);
    for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(name, value);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.target.apiKey}`, ...(options.body === undefined ? {} : { "content-type": "application/json" }) },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new CliError(
        EXIT.unreachable,
        "queen_unreachable",
        `cannot reach the queen at ${this.target.queenUrl} (${describeError(error)}): is it running (npm start runs a local one)? Point rbee at another with rbee login <url> or RBEE_QUEEN_URL.`,
        { cause: error },
      );
    }
    if (!response.ok) throw await this.errorFrom(method, path, response);
    return response;
  }

  private async errorFrom(method: string, path: string, response: Response): Promise<CliError> {
    const body = (await response.json().catch(() => undefined)) as { error?: { message?: string; code?: string } } | undefined;
    const message = body?.error?.message ?? `${response.status} ${response.statusText}`;
    const code = body?.error?.code ?? `http_${response.status}`;
    if (response.status === 401) {
      return new CliError(EXIT.unreachable, code, `the queen at ${this.target.queenUrl} refused the API key: ${message} Run rbee login ${this.target.queenUrl} with a valid key (or set RBEE_API_KEY).`);
    }
    if (response.status === 403) {
      return new CliError(EXIT.unreachable, code, `${message} This command needs a key with the admin scope: log in with an admin key (rbee login ${this.target.queenUrl}).`);
    }
    // What a queen of another version answers a call it does not know: no such route, other methods, another body type.
    if (response.status === 415 || response.status === 405 || (response.status === 404 && code === "not_found")) {
      return new CliError(EXIT.failed, code, `${method} ${path}: ${message} Is ${this.target.queenUrl} an rbee queen of this version?`);
    }
    return new CliError(EXIT.failed, code, message);
  }
}
