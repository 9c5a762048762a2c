// Turns an OpenAI `response_format` into the llama.cpp grammar that forces the output to be JSON
// (any object, or one matching the client's schema: all of it when `strict`, its structure
// otherwise, as relaxed-schema.ts says), caching grammars per schema since clients
// send the same schema with every request. The engine asks it for the grammar of each request.
import type { Llama, LlamaGrammar } from "node-llama-cpp";
import { describeError, RbeeError } from "../shared/errors.js";
import type { ResponseFormat } from "../shared/openai/chat-request.js";
import { findUnsupportedSchemaPart } from "./json-schema-support.js";
import { schemaAsAsked } from "./relaxed-schema.js";
import { asGeneratorSchema } from "./schema-normalizer.js";

/** Schemas whose grammars are kept; a client cycling through endless schemas must not grow memory forever. */
const MAX_CACHED_GRAMMARS = 64;

const SCHEMA_PARAM = "response_format.json_schema.schema";

/**
 * What node-llama-cpp 3.21.1's JSON schema grammar forces after the value (its GBNF text): four
 * newlines, on which it then stops (node-llama-cpp calls them "a workaround for the model not
 * stopping"). llama.cpp lets a finished grammar go on only with an end-of-generation token, so
 * they are not needed to stop; kept, each answer generates four tokens it never shows, and its
 * usage depends on max_tokens: counted up to max_tokens when the newlines ran into it, without
 * them when they did not.
 */
const NEWLINES_AFTER_THE_VALUE = ' "\\n\\n\\n\\n" [\\n]*';

export class ResponseFormats {
  /** Insertion-ordered, so the first key is the least recently used. */
  private readonly cache = new Map<string, Promise<LlamaGrammar>>();

  constructor(private readonly llama: Llama) {}

  /** The grammar to generate with; undefined for free text. Throws a 400 naming the schema when it cannot be enforced. */
  async grammarFor(format: ResponseFormat | null | undefined): Promise<LlamaGrammar | undefined> {
    switch (format?.type) {
      case undefined:
      case "text":
        return undefined;
      case "json_object":
        return this.anyJsonObject();
      case "json_schema": {
        // As OpenAI: a strict schema is enforced whole (or refused); otherwise it guides the output, here by its structure.
        const { schema, strict } = format.json_schema;
        if (schema === undefined) return this.anyJsonObject();
        return this.schemaGrammar(schemaAsAsked(schema, strict === true));
      }
    }
  }

  /** node-llama-cpp's bundled JSON grammar has an object at its root, as json_object promises. */
  private anyJsonObject(): Promise<LlamaGrammar> {
    return this.cached("json_object", () => this.llama.getGrammarFor("json"));
  }

  private schemaGrammar(schema: unknown): Promise<LlamaGrammar> {
    const unsupported = findUnsupportedSchemaPart(schema);
    if (unsupported) {
      const where = unsupported.path === "" ? "the schema" : `${SCHEMA_PARAM}.${unsupported.path}`;
      throw new RbeeError(400, "unsupported_json_schema", `This JSON schema cannot be enforced: ${where}: ${unsupported.reason}`, {
        param: SCHEMA_PARAM,
      });
    }
    return this.cached(`schema:${JSON.stringify(schema)}`, async () => {
      try {
        // The checker above proved the schema is within what the generator accepts; its type is far stricter than unknown JSON.
        // Its numbers and dates are kept real by grammar-tightening.ts, which the engine applies to every grammar.
        const grammar = await this.llama.createGrammarForJsonSchema(asGeneratorSchema(schema) as Parameters<Llama["createGrammarForJsonSchema"]>[0]);
        return await this.endingAtTheValue(grammar);
      } catch (error) {
        throw new RbeeError(400, "unsupported_json_schema", `This JSON schema cannot be enforced: ${describeError(error)}`, {
          param: SCHEMA_PARAM,
          cause: error,
        });
      }
    });
  }

  /** The grammar without the newlines after its value (NEWLINES_AFTER_THE_VALUE), so generation ends with the value. */
  private endingAtTheValue(grammar: LlamaGrammar): Promise<LlamaGrammar> | LlamaGrammar {
    // The root rule comes first, one line, the newlines at its end.
    const text = grammar.grammar;
    const newline = text.indexOf("\n");
    const lineEnd = newline < 0 ? text.length : newline;
    const root = text.slice(0, lineEnd);
    // Not so (another node-llama-cpp): the grammar as node-llama-cpp made it still works.
    if (!root.startsWith("root ::= ") || !root.endsWith(NEWLINES_AFTER_THE_VALUE)) return grammar;
    const ending = root.slice(0, -NEWLINES_AFTER_THE_VALUE.length) + text.slice(lineEnd);
    return this.llama.createGrammar({ grammar: ending, trimWhitespaceSuffix: grammar.trimWhitespaceSuffix });
  }

  private cached(key: string, create: () => Promise<LlamaGrammar>): Promise<LlamaGrammar> {
    let grammar = this.cache.get(key);
    if (grammar) {
      this.cache.delete(key);
    } else {
      grammar = create();
      // A failed build is not kept: the next request gets the same error anew, and the slot in the cache stays free.
      grammar.catch(() => this.cache.delete(key));
    }
    this.cache.set(key, grammar);
    while (this.cache.size > MAX_CACHED_GRAMMARS) {
      const oldest = this.cache.keys().next();
      if (oldest.done) break;
      this.cache.delete(oldest.value);
    }
    return grammar;
  }
}
