// Tightens every grammar the worker generates under (response_format JSON and tool-call
// arguments) where node-llama-cpp's rules take more than the schema promises: numbers
// (grammar-numbers.ts) and dates (grammar-dates.ts). Tool-call grammars are built inside
// LlamaChat, out of reach of any option, so the one place every grammar passes through is patched
// instead: the native grammar constructor of this Llama instance (`_bindings.AddonGrammar`, which
// only `LlamaGrammar` calls). That is node-llama-cpp 3.21.1's internal API (the version is
// pinned); load fails loudly if it is gone.
import type { Llama } from "node-llama-cpp";
import { tightenDateRules } from "./grammar-dates.js";
import { tightenNumberRules } from "./grammar-numbers.js";

type AddonGrammarClass = new (grammar: string, options: unknown) => object;

/** Every grammar `llama` creates from now on, tightened. */
export function tightenGrammars(llama: Llama): void {
  const bindings = (llama as unknown as { _bindings?: { AddonGrammar?: AddonGrammarClass } })._bindings;
  const Original = bindings?.AddonGrammar;
  if (bindings === undefined || typeof Original !== "function") {
    throw new Error("node-llama-cpp's grammar constructor (_bindings.AddonGrammar) was not found: this worker needs node-llama-cpp 3.21.1");
  }
  bindings.AddonGrammar = class extends Original {
    constructor(grammar: string, options: unknown) {
      super(tightenDateRules(tightenNumberRules(grammar)), options);
    }
  };
}
