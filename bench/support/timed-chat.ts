// Times OpenAI chat completions against any base URL — a worker directly or the queen — the same
// way, so bench/relay.ts and bench/streams.ts can subtract one from the other. Streams are read
// event by event (eventsource-parser, as the queen reads them) and keep every piece of text with
// the moment it arrived, for time to first token, gaps between tokens and order checks.
import { Agent, type IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import { createParser } from "eventsource-parser";
import { z } from "zod";
import { postJson, readAll } from "./worker-client.js";

const Usage = z.object({
  completion_tokens: z.number().int().nonnegative(),
  prompt_tokens: z.number().int().nonnegative().optional(),
  prompt_tokens_details: z.object({ cached_tokens: z.number().int().nonnegative() }).nullish(),
});
const Completion = z.object({ usage: Usage });
const Chunk = z.object({
  choices: z.array(z.object({ delta: z.object({ content: z.string().nullish() }).nullish() })).optional(),
  usage: Usage.nullish(),
});

/** Where requests go: a worker's base URL with its secret, or the queen's with an API key. */
export interface ChatTarget {
  /** e.g. `http://127.0.0.1:7833`; `/v1/chat/completions` is appended. */
  baseUrl: string;
  /** The `Authorization` header. */
  authorization: string;
}

/** The request's fields besides `stream`: model, messages, max_tokens, sampling. */
export type ChatBody = Record<string, unknown>;

export interface TimedAnswer {
  /** Request start to last byte, ms. */
  ms: number;
  /** `usage.completion_tokens`. */
  tokens: number;
}

export interface TimedStream extends TimedAnswer {
  /** Request start to the first chunk with text, ms; NaN when none came. */
  firstTokenMs: number;
  /** Every piece of text in order, one per chunk. */
  pieces: string[];
  /** The usage chunk's prompt tokens, and of them those the worker's slot held already (0 when it does not say). */
  promptTokens: number;
  cachedTokens: number;
  /** When each piece arrived, ms after the request started. */
  arrivals: number[];
}

export class TimedChatClient {
  // Keep-alive as the hive keeps its connections: a new TCP connection per request would be timed
  // too. Idle sockets are dropped after 4 s, before Node's servers (the worker's keepAliveTimeout
  // is 5 s) close them: a request sent on a socket the server is closing fails with "socket hang up".
  private readonly agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, timeout: 4000 });

  /** One non-streaming completion, timed to its last byte. */
  async complete(target: ChatTarget, body: ChatBody): Promise<TimedAnswer> {
    const started = performance.now();
    const response = await this.post(target, { ...body, stream: false });
    const text = await readAll(response);
    const ms = performance.now() - started;
    return { ms, tokens: Completion.parse(JSON.parse(text)).usage.completion_tokens };
  }

  /** One streamed completion with its usage chunk; throws if it ends without `[DONE]`. */
  async stream(target: ChatTarget, body: ChatBody): Promise<TimedStream> {
    const started = performance.now();
    const response = await this.post(target, { ...body, stream: true, stream_options: { include_usage: true } });
    const pieces: string[] = [];
    const arrivals: number[] = [];
    let tokens: number | undefined;
    let promptTokens = 0;
    let cachedTokens = 0;
    let done = false;
    let failure: Error | undefined;
    const parser = createParser({
      onEvent: (event) => {
        if (event.data === "[DONE]") {
          done = true;
          return;
        }
        const chunk = Chunk.safeParse(JSON.parse(event.data));
        if (!chunk.success) {
          failure ??= new Error(`not a chat chunk: ${event.data.slice(0, 300)}`);
          return;
        }
        const content = chunk.data.choices?.[0]?.delta?.content;
        if (content) {
          pieces.push(content);
          arrivals.push(performance.now() - started);
        }
        if (chunk.data.usage) {
          tokens = chunk.data.usage.completion_tokens;
          promptTokens = chunk.data.usage.prompt_tokens ?? 0;
          cachedTokens = chunk.data.usage.prompt_tokens_details?.cached_tokens ?? 0;
        }
      },
    });
    response.setEncoding("utf8");
    for await (const text of response as AsyncIterable<string>) parser.feed(text);
    const ms = performance.now() - started;
    if (failure) throw failure;
    if (!done) throw new Error("the stream ended without data: [DONE]");
    if (tokens === undefined) throw new Error("the stream sent no usage chunk despite stream_options.include_usage");
    return { ms, tokens, firstTokenMs: arrivals[0] ?? Number.NaN, pieces, arrivals, promptTokens, cachedTokens };
  }

  close(): void {
    this.agent.destroy();
  }

  private post(target: ChatTarget, body: ChatBody): Promise<IncomingMessage> {
    return postJson(`${target.baseUrl}/v1/chat/completions`, JSON.stringify(body), { agent: this.agent, authorization: target.authorization });
  }

}
