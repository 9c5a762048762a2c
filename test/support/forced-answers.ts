// Answers whose text is known before they are asked, for exact checks of a relay under concurrency
// (bench/streams.ts, test/node/relay-interleaved.test.ts). A JSON schema whose only value is one
// string makes the worker's grammar force that text token by token, whatever llama.cpp's batched
// arithmetic does under concurrency (which changes free text from round to round). The tiny
// models' vocabulary has one token per character, and the worker sends each token's text as one
// chunk, so such a stream must arrive as exactly the pieces below: any piece lost, repeated,
// reordered or crossed over from another stream shows.
import { mulberry32 } from "../../shared/seeded-random.js";

/** Letters and digits: nothing JSON escapes, and nothing that begins a stop text such as ChatML's `<|im_end|>`. */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export interface ForcedAnswer {
  /** A chat request's body, without `stream`. */
  body: Record<string, unknown>;
  /** What the stream must deliver, one piece a token: the string's characters between its quotes. */
  pieces: string[];
}

/**
 * Stream `index` of round `round`: `tokens` tokens long, its quotes included (at least those two),
 * its text drawn from a seed of its own so that no two streams of a run look alike.
 */
export function forcedAnswer(model: string, round: number, index: number, tokens: number): ForcedAnswer {
  const random = mulberry32(round * 1_000_003 + index);
  const text = Array.from({ length: Math.max(0, tokens - 2) }, () => ALPHABET[Math.floor(random() * ALPHABET.length)]).join("");
  return {
    body: {
      model,
      messages: [{ role: "user", content: `Repeat code ${round}-${index}.` }],
      // One more than the text, for the end of generation the grammar leaves as the only choice.
      max_tokens: tokens + 1,
      temperature: 0,
      response_format: { type: "json_schema", json_schema: { name: "forced", strict: true, schema: { type: "string", const: text } } },
    },
    pieces: [...JSON.stringify(text)],
  };
}
