// Makes the model call a function when a request says it must (`tool_choice` "required" or a
// named function). node-llama-cpp lets the model choose between text and a call; a chat
// wrapper that reports its function call as "initially engaged" makes generation start inside
// the call, under the grammar of the function names and then of that function's parameters, so
// even a model that would never choose to call (the random tiny test model) makes a valid call.
// The engine gives each slot one such wrapper and switches it on for the requests that need it.
import { LlamaText, type ChatWrapper } from "node-llama-cpp";

export interface ForcedCallWrapper {
  /** The wrapper to build the slot's LlamaChat with: the model's own, plus the switch. */
  readonly wrapper: ChatWrapper;
  /** Runs `generate` with every function call forced (when `force`), then switches back. */
  run<T>(force: boolean, generate: () => Promise<T>): Promise<T>;
}

export function forcedCallWrapper(inner: ChatWrapper): ForcedCallWrapper {
  let forcing = false;
  // Inherits everything (settings, call and result rendering) from the model's own wrapper;
  // only the context state of a forced generation differs.
  const wrapper: ChatWrapper = Object.create(inner);
  wrapper.generateContextState = (options) => {
    const state = inner.generateContextState(options);
    if (!forcing) return state;
    // The prompt ends with the call prefix (e.g. ChatML's `||call: `), as if the model had written
    // it; node-llama-cpp then generates the function name, its parameters and stops. Whatever the
    // wrapper would have let the model write first (thoughts, text) is skipped: a call comes first.
    return {
      contextText: LlamaText([state.contextText, inner.settings.functions.call.prefix]),
      stopGenerationTriggers: state.stopGenerationTriggers,
      functionCall: { initiallyEngaged: true, disengageInitiallyEngaged: [] },
    };
  };
  return {
    wrapper,
    async run(force, generate) {
      forcing = force;
      try {
        return await generate();
      } finally {
        forcing = false;
      }
    },
  };
}
