// `rbee chat [-m <model>] "<prompt>"`: one streamed chat completion, tokens printed as they come.
// Without -m it asks the model the queen serves, when it serves one (npm start's local cloud).
// Ctrl-C aborts the request; the queen sees the client gone and the worker stops generating.
import type { Command } from "commander";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { z } from "zod";
import { CliError, EXIT } from "../cli-error.js";
import type { CliContext } from "../context.js";
import { positiveIntegerOption } from "../flag-values.js";
import { listAll } from "../list-pages.js";
import type { QueenApi } from "../queen-api.js";
import { ModelView } from "../queen-views.js";

const ChatChunk = z.looseObject({
  choices: z.array(z.looseObject({ delta: z.looseObject({ content: z.string().nullish() }).optional(), finish_reason: z.string().nullish() })),
});

/** Exit status of a command stopped by Ctrl-C, as shells report SIGINT. */
const INTERRUPTED = 130;

export function registerChat(program: Command, context: CliContext): void {
  program
    .command("chat <prompt...>")
    .description("ask a model one question and stream its answer (Ctrl-C stops the generation)")
    .option("-m, --model <model>", "the model to ask (rbee models ls lists them); default the one model loaded, or listed")
    .addOption(positiveIntegerOption("--max-tokens <n>", "stop after this many tokens").default(512))
    .option("--system <text>", "a system message before the prompt")
    .action(async (words: string[], options: { model?: string; maxTokens: number; system?: string }) => {
      const messages = [...(options.system === undefined ? [] : [{ role: "system", content: options.system }]), { role: "user", content: words.join(" ") }];
      const api = await context.queen();
      const model = options.model ?? (await theOneModel(api));
      const cancel = new AbortController();
      const onInterrupt = () => {
        cancel.abort();
        process.stderr.write("\n(stopped)\n");
        process.exit(INTERRUPTED);
      };
      process.once("SIGINT", onInterrupt);
      const response = await api.send("POST", "/v1/chat/completions", {
        body: { model, messages, stream: true, max_tokens: options.maxTokens },
        signal: cancel.signal,
      });
      const events = response.body?.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
      for await (const event of events ?? []) {
        if (event.data === "[DONE]") break;
        const chunk = ChatChunk.safeParse(JSON.parse(event.data));
        const content = chunk.success ? chunk.data.choices[0]?.delta?.content : undefined;
        if (content) process.stdout.write(content);
      }
      process.stdout.write("\n");
      process.off("SIGINT", onInterrupt);
    });
}

/** The model to ask when -m names none: the only one loaded, else the only one listed; otherwise -m must say. */
async function theOneModel(api: QueenApi): Promise<string> {
  const models = await listAll(api, ModelView, "/v1/models");
  const loaded = models.filter((model) => model.state === undefined || model.state === "loaded");
  const [only] = loaded.length === 1 ? loaded : models.length === 1 ? models : [];
  if (only) return only.id;
  const served = models.length === 0 ? "no model yet (rbee models pull, or npm start -- --model <id>)" : models.map((model) => `${model.id} (${model.state ?? "loaded"})`).join(", ");
  throw new CliError(EXIT.usage, "model_required", `say which model to ask with -m <model>: the queen serves ${served}`);
}
