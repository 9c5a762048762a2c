// The `rbee` CLI's HTTP client for the queen: adds the key, parses answers with the caller's zod
// schema, gives each request a deadline (answer-deadline.ts), and turns every failure into a
// CliError that says what to do next (exit 3 when the queen cannot be reached, does not answer in
// time or refuses the key, 1 when it refuses the request).
import type { z } from "zod";
import { describeError } from "../shared/errors.js";
import { AnswerDeadline } from "./answer-deadline.js";
import { CliError, EXIT } from "./cli-error.js";
import { withCommandHint } from "./command-hints.js";
import type { QueenTarget } from "./config.js";

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** This request's deadline instead of the CLI's, for a call the queen itself holds open longer. */
  timeoutMs?: number;
}

export class QueenApi {
  constructor(
    readonly target: QueenTarget,
    /** How long a request waits for the queen's answer (RBEE_TIMEOUT_SECONDS). */
    readonly timeoutMs: number,
  ) {}

  /** A JSON answer, whole within the deadline, checked against `schema`. */
  async call<T extends z.ZodType>(schema: T, method: string, path: string, options: RequestOptions = {}): Promise<z.infer<T>> {
    const deadline = new AnswerDeadline(options.timeoutMs ?? this.timeoutMs, options.signal);
    let json: unknown;
    try {
      const response = await this.request(method, path, options, deadline);
      json = await response.json().catch((error: unknown) => {
        if (deadline.expired) throw this.timeoutError(method, path, deadline);
        if (options.signal?.aborted) throw error;
        return undefined;
      });
    } finally {
      deadline.end();
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new CliError(EXIT.failed, "unexpected_answer", `the queen's answer to ${method} ${path} is not what this rbee expects: is the queen the same version? (${parsed.error.issues[0]?.message ?? "no JSON"})`);
    }
    return parsed.data;
  }

  /**
   * The raw response of a request that succeeded (2xx), for streams; the caller reads the body.
   * The deadline covers the head only: once a stream began it may run as long as it runs.
   */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const deadline = new AnswerDeadline(options.timeoutMs ?? this.timeoutMs, options.signal);
    try {
      return await this.request(method, path, options, deadline);
    } finally {
      deadline.end();
    }
  }

  private async request(method: string, path: string, options: RequestOptions, deadline: AnswerDeadline): Promise<Response> {
    const url = new URL(this.target.queenUrl + path);
    for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(name, value);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.target.apiKey}`, ...(options.body === undefined ? {} : { "content-type": "application/json" }) },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: deadline.signal,
      });
    } catch (error) {
      if (deadline.expired) throw this.timeoutError(method, path, deadline);
      if (options.signal?.aborted) throw error;
      throw new CliError(
        EXIT.unreachable,
        "queen_unreachable",
        `cannot reach the queen at ${this.target.queenUrl} (${describeError(error)}): is it running (npm start runs a local one)? Point rbee at another with rbee login <url> or RBEE_QUEEN_URL.`,
        { cause: error },
      );
    }
    if (!response.ok) {
      const refusal = await this.errorFrom(method, path, response);
      throw deadline.expired ? this.timeoutError(method, path, deadline) : refusal;
    }
    return response;
  }

  /** Exit 3 like an unreachable queen: either way this queen is of no use to the command now. */
  private timeoutError(method: string, path: string, deadline: AnswerDeadline): CliError {
    return new CliError(
      EXIT.unreachable,
      "queen_timeout",
      `the queen at ${this.target.queenUrl} did not answer ${method} ${path} within ${deadline.timeoutMs / 1000} s: is it overloaded or stuck? RBEE_TIMEOUT_SECONDS sets how long rbee waits.`,
    );
  }

  private async errorFrom(method: string, path: string, response: Response): Promise<CliError> {
    const body = (await response.json().catch(() => undefined)) as { error?: { message?: string; code?: string } } | undefined;
    const message = body?.error?.message ?? `${response.status} ${response.statusText}`;
    const code = body?.error?.code ?? `http_${response.status}`;
    if (response.status === 401) {
      return new CliError(EXIT.unreachable, code, `the queen at ${this.target.queenUrl} refused the API key: ${message} Run rbee login ${this.target.queenUrl} with a valid key (or set RBEE_API_KEY).`);
    }
    // A key narrowed to some models: another model, or an admin widening the list, is the way on.
    if (response.status === 403 && code === "model_not_allowed") return new CliError(EXIT.failed, code, message);
    if (response.status === 403) {
      // The queen's refusal names the scope its route needs (queen/auth/route-scope.ts decides):
      // read it from there rather than keep a second copy of that rule here.
      const scope = /needs the '(\w+)' scope/.exec(message)?.[1];
      const needed = scope === undefined ? "a key allowed to do this" : `a key with the ${scope} scope`;
      return new CliError(EXIT.unreachable, code, `${message} This command needs ${needed}: log in with one (rbee login ${this.target.queenUrl}).`);
    }
    // What a queen of another version answers a call it does not know: no such route, other methods, another body type.
    if (response.status === 415 || response.status === 405 || (response.status === 404 && code === "not_found")) {
      return new CliError(EXIT.failed, code, `${method} ${path}: ${message} Is ${this.target.queenUrl} an rbee queen of this version?`);
    }
    // The queen found a value given to it invalid (a name too long, a lifetime past its most): the
    // command was used wrongly, as a flag value refused before sending is. Other 400s (a prompt
    // past the model's context) are the queen refusing, as any other refusal.
    if (response.status === 400 && code.startsWith("invalid_")) return new CliError(EXIT.usage, code, withCommandHint(message));
    return new CliError(EXIT.failed, code, withCommandHint(message));
  }
}
