// A minimal HTTP client for the worker's /v1/chat/completions that times each request, plain and
// streamed (server-sent events); the benchmark's HTTP runs go through it.
import { Agent, request as httpRequest, type IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import type { ChatMessage } from "../../shared/openai/chat-request.js";
import type { RunResult } from "./run-result.js";

const Usage = z.object({ completion_tokens: z.number().int().nonnegative() });
const Completion = z.object({ usage: Usage });
const Chunk = z.object({
  choices: z.array(z.object({ delta: z.object({ content: z.string().nullish() }).optional() })).optional(),
});

export interface ChatRequest {
  messages: readonly ChatMessage[];
  maxTokens: number;
}

export class WorkerClient {
  // Keep-alive, as the hive's forwarding would: a new TCP connection per run would be timed too.
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly baseUrl: string,
    /** The worker's `Authorization` header (WorkerProcess.authorization). */
    private readonly authorization: string,
  ) {}

  /** One non-streaming greedy completion; tokens come from `usage.completion_tokens`. */
  async complete(chat: ChatRequest): Promise<RunResult> {
    const started = performance.now();
    const response = await this.post(this.body(chat, false));
    const text = await readAll(response);
    const seconds = (performance.now() - started) / 1000;
    const completion = Completion.parse(JSON.parse(text));
    return { tokens: completion.usage.completion_tokens, seconds };
  }

  /** One streamed greedy completion, read event by event as a client would, with its usage chunk. */
  async stream(chat: ChatRequest): Promise<RunResult> {
    const started = performance.now();
    const response = await this.post(this.body(chat, true));
    let firstTokenAt: number | undefined;
    let tokens: number | undefined;
    let done = false;
    let buffer = "";
    response.setEncoding("utf8");
    for await (const piece of response as AsyncIterable<string>) {
      buffer += piece;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!event.startsWith("data: ")) throw new Error(`expected an SSE "data: " event, got ${JSON.stringify(event)}`);
        const data = event.slice("data: ".length);
        if (data === "[DONE]") {
          done = true;
          continue;
        }
        const chunk: unknown = JSON.parse(data);
        // Validating all ~400 chunks would cost the client a few ms of the CPU the worker needs on
        // a small machine: only chunks that can matter are checked (until the first text, and usage).
        if (firstTokenAt === undefined && Chunk.parse(chunk).choices?.[0]?.delta?.content) firstTokenAt = performance.now();
        if (hasUsage(chunk)) tokens = Usage.parse(chunk.usage).completion_tokens;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    if (!done) throw new Error("the stream ended without data: [DONE]");
    if (tokens === undefined) throw new Error("the stream sent no usage chunk despite stream_options.include_usage");
    const firstTokenSeconds = firstTokenAt === undefined ? undefined : (firstTokenAt - started) / 1000;
    return firstTokenSeconds === undefined ? { tokens, seconds } : { tokens, seconds, firstTokenSeconds };
  }

  close(): void {
    this.agent.destroy();
  }

  private body(chat: ChatRequest, stream: boolean): string {
    return JSON.stringify({
      model: "bench",
      messages: chat.messages,
      temperature: 0,
      max_tokens: chat.maxTokens,
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    });
  }

  private post(body: string): Promise<IncomingMessage> {
    return postJson(`${this.baseUrl}/v1/chat/completions`, body, { agent: this.agent, authorization: this.authorization });
  }

}

function hasUsage(chunk: unknown): chunk is { usage: unknown } {
  return typeof chunk === "object" && chunk !== null && "usage" in chunk && chunk.usage != null;
}

/**
 * POSTs a JSON `body` and resolves with the response once it is a 200; any other status becomes
 * an Error naming the URL, with the body.
 */
export function postJson(url: string, body: string, options: { agent: Agent; authorization: string }): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: "POST",
        agent: options.agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: options.authorization },
      },
      (response) => {
        if (response.statusCode === 200) return resolve(response);
        readAll(response).then((text) => reject(new Error(`${url} answered ${response.statusCode}: ${text.slice(0, 500)}`)), reject);
      },
    );
    request.once("error", reject);
    request.end(body);
  });
}

/** The whole body of `response` as text. */
export async function readAll(response: IncomingMessage): Promise<string> {
  response.setEncoding("utf8");
  let text = "";
  for await (const piece of response as AsyncIterable<string>) text += piece;
  return text;
}
