// The one error type rbee throws on purpose, and its OpenAI-style wire shape. Every role uses
// it so a client sees `{error:{message,type,param,code}}` with the right status, never a stack.

/** OpenAI's error `type` values, chosen from the HTTP status (OpenAI's 404s are invalid requests too). */
export type OpenAiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "rate_limit_error"
  | "server_error";

export interface OpenAiErrorBody {
  error: { message: string; type: OpenAiErrorType; param: string | null; code: string | null };
}

export interface RbeeErrorOptions {
  /** The request field the error is about, e.g. `messages[0].content`. */
  param?: string;
  /** Seconds a client should wait before retrying (sent as `Retry-After`). */
  retryAfterSeconds?: number;
  /**
   * The failure does not pass by itself (a model too large for every device): sent as
   * `x-should-retry: false`, which the OpenAI and Anthropic SDKs heed instead of retrying a 5xx.
   */
  final?: boolean;
  cause?: unknown;
}

export class RbeeError extends Error {
  override readonly name = "RbeeError";
  readonly param: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly final: boolean;

  constructor(
    /** HTTP status the error leaves with. */
    readonly status: number,
    /** Machine-readable code a program can act on, e.g. `model_not_found`. */
    readonly code: string,
    message: string,
    options: RbeeErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.param = options.param;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.final = options.final === true;
  }

  get retryable(): boolean {
    return this.status === 429 || this.status === 503;
  }

  toBody(): OpenAiErrorBody {
    return openAiErrorBody(this.status, this.code, this.message, this.param);
  }

  toResponse(): Response {
    const headers = new Headers({ "content-type": "application/json" });
    if (this.retryAfterSeconds !== undefined) headers.set("retry-after", String(this.retryAfterSeconds));
    if (this.final) headers.set(SHOULD_RETRY_HEADER, "false");
    return new Response(JSON.stringify(this.toBody()), { status: this.status, headers });
  }
}

/** The header the OpenAI and Anthropic SDKs read before retrying an answer: "false" stops them. */
export const SHOULD_RETRY_HEADER = "x-should-retry";

export function openAiErrorBody(status: number, code: string, message: string, param?: string): OpenAiErrorBody {
  return { error: { message, type: errorTypeFor(status), param: param ?? null, code } };
}

function errorTypeFor(status: number): OpenAiErrorType {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/**
 * A one-line reason for any thrown value. fetch reports only "fetch failed" and hides the part a
 * person needs (ECONNREFUSED, ETIMEDOUT…) in `cause`, so a cause's code or message wins.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (error.message === "fetch failed" && cause instanceof Error) {
    const code = "code" in cause && typeof cause.code === "string" ? cause.code : undefined;
    return code === undefined ? cause.message : `${code}: ${cause.message}`;
  }
  return error.message;
}
