// Texts the tiny model writes under a GBNF grammar: tests of the worker's own grammar rules
// (patterns, bounds, formats) check what llama.cpp really generates under them, and that
// llama.cpp's parser takes them at all. The model's weights are random and its vocabulary is one
// token per printable ASCII character, so under a grammar it wanders the whole of what the grammar
// allows.
import { rm } from "node:fs/promises";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaCompletion, LlamaLogLevel, type LlamaContext, type Llama } from "node-llama-cpp";
import { writeTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";

interface Loaded {
  llama: Llama;
  context: LlamaContext;
  dir: string;
}

let loaded: Promise<Loaded> | undefined;

function load(): Promise<Loaded> {
  loaded ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), "rbee-grammar-samples-"));
    const path = join(dir, "tiny.gguf");
    await writeTinyLlamaGguf(path);
    // build: "never": a missing binary would otherwise start a many-minute source build; one thread on a 2-core machine.
    const llama = await getLlama({ build: "never", gpu: false, maxThreads: 1, logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: path });
    const context = await model.createContext({ contextSize: 512, sequences: 1 });
    return { llama, context, dir };
  })();
  return loaded;
}

/**
 * `count` texts generated under `root ::= <expression>`, each with its own seed at temperature 1,
 * of at most `maxTokens` tokens (a text cut there is returned as it stands). Throws if llama.cpp's
 * grammar parser refuses the grammar.
 */
export async function sampleGrammar(expression: string, count: number, maxTokens = 80): Promise<string[]> {
  const { llama, context } = await load();
  const grammar = await llama.createGrammar({ grammar: `root ::= ${expression}` });
  const sequence = context.getSequence();
  try {
    const completion = new LlamaCompletion({ contextSequence: sequence });
    const texts: string[] = [];
    for (let seed = 1; seed <= count; seed++) {
      texts.push(await completion.generateCompletion("Write:", { grammar, maxTokens, temperature: 1, seed }));
      await sequence.clearHistory();
    }
    return texts;
  } finally {
    sequence.dispose();
  }
}

/** Frees the model and its temp folder (afterAll). */
export async function disposeGrammarSamples(): Promise<void> {
  if (loaded === undefined) return;
  const { llama, dir } = await loaded;
  loaded = undefined;
  await llama.dispose();
  await rm(dir, { recursive: true, force: true });
}
