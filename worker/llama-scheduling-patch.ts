// node-llama-cpp 3.21.1 as released makes a request on a slot that an earlier request used wait
// until every other answer of the worker has ended (patches/node-llama-cpp+3.21.1.patch says why).
// npm applies the patch when it installs rbee (the postinstall script); an install that ran no
// scripts (`--ignore-scripts`, or an npm that blocks them) has none, and nothing else would tell.
// The worker checks at start and says so, with what to run.
import { readFile } from "node:fs/promises";

/** Words of the patch's comment: present only in a patched node-llama-cpp. */
export const PATCH_MARKER = "rbee: one batch per hold of the context lock";

/** The source of node-llama-cpp's LlamaContext as installed beside this worker. */
async function installedLlamaContext(): Promise<string> {
  // The package's entry is its dist/index.js, beside the evaluator folder.
  return readFile(new URL("./evaluator/LlamaContext/LlamaContext.js", import.meta.resolve("node-llama-cpp")), "utf8");
}

/**
 * What to tell the operator of a worker with `parallel` slots whose node-llama-cpp lacks the
 * patch, or undefined when it has it (or one slot, which never waits for another). A source that
 * cannot be read is not blamed: the check then cannot tell.
 */
export async function unpatchedSchedulingWarning(parallel: number, source: () => Promise<string> = installedLlamaContext): Promise<string | undefined> {
  if (parallel < 2) return undefined;
  const text = await source().catch(() => undefined);
  if (text === undefined || text.includes(PATCH_MARKER)) return undefined;
  return (
    `node-llama-cpp lacks rbee's scheduling patch (its install ran no scripts): with --parallel ${parallel}, ` +
    "a request on a slot used before waits for the other answers to end. Run `npx patch-package` in rbee's folder, then restart the worker"
  );
}
