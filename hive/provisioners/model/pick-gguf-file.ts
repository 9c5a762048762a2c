// Picks which GGUF of a Hugging Face repo to fetch when the id names a quantization
// (`hf:org/repo:Q8_0`) or nothing (`hf:org/repo`), and says why, for the job's narration.
// Repos usually hold one file per quantization plus extras (vision projectors, split parts)
// that must never be picked on their own.
import { RbeeError } from "../../../shared/errors.js";

/**
 * Tried in order when the id names no quantization: Q4_K_M first (the size/quality balance
 * llama.cpp and node-llama-cpp default to), then better quality while still small, then smaller.
 */
export const QUANTIZATION_PREFERENCE = [
  "Q4_K_M", "Q5_K_M", "Q8_0", "Q4_K_S", "Q6_K", "Q5_K_S", "Q4_0", "IQ4_XS", "IQ4_NL", "Q3_K_M", "Q3_K_L",
  "Q5_0", "Q4_1", "Q3_K_S", "IQ3_M", "Q2_K", "F16", "BF16", "F32",
] as const;

export interface GgufPick {
  filePath: string;
  /** One sentence for the narration: which file and why. */
  reason: string;
}

/** Split models (`x-00001-of-00003.gguf`) need every part; rbee fetches single files only. */
const SPLIT_PART = /-\d{5}-of-\d{5}\.gguf$/i;
/** Whether the file is one part of a split model, which needs its sibling parts to load. */
export function isSplitPart(filePath: string): boolean {
  return SPLIT_PART.test(filePath);
}

/** Vision projectors and importance matrices ship as .gguf too, but are not models to load. */
const NOT_A_MODEL = /(^|[/_.-])(mmproj|imatrix)/i;

export function pickGgufFile(repo: string, paths: readonly string[], quantization: string | null): GgufPick {
  const ggufs = paths.filter((each) => each.toLowerCase().endsWith(".gguf")).sort();
  const models = ggufs.filter((each) => !SPLIT_PART.test(each) && !NOT_A_MODEL.test(each));
  if (quantization !== null) {
    const matches = models.filter((each) => hasQuantization(each, quantization));
    const first = matches[0];
    if (first === undefined) {
      const splitOnly = ggufs.some((each) => SPLIT_PART.test(each) && hasQuantization(each, quantization));
      throw new RbeeError(
        404,
        "model_not_found",
        splitOnly
          ? `hf:${repo} has ${quantization} only as a split model (several -0000N-of-0000M.gguf parts), which rbee cannot fetch yet; ` +
            (models.length === 0 ? "nor has it any other quantization as one file, so pick a repo that ships single-file GGUFs" : `pick another quantization: ${available(models)}`)
          : `hf:${repo} has no single .gguf file with ${quantization} in its name; available: ${available(models)}`,
      );
    }
    const others = matches.length > 1 ? ` (${matches.length} files match; took the first by name)` : "";
    return { filePath: first, reason: `picked ${first} because its name says ${quantization}${others}` };
  }
  if (models.length === 0) {
    throw new RbeeError(
      404,
      "model_not_found",
      ggufs.length === 0
        ? `hf:${repo} holds no .gguf file; rbee runs GGUF models, so pick a repo that ships GGUF (often named …-GGUF)`
        : `hf:${repo} holds only split or auxiliary .gguf files (${ggufs.slice(0, 5).join(", ")}), which rbee cannot load on their own`,
    );
  }
  const only = models[0];
  if (models.length === 1 && only !== undefined) return { filePath: only, reason: `picked ${only}, the repo's only GGUF model file` };
  for (const preferred of QUANTIZATION_PREFERENCE) {
    const match = models.find((each) => hasQuantization(each, preferred));
    if (match !== undefined) {
      const why = preferred === QUANTIZATION_PREFERENCE[0] ? "the usual balance of size and quality" : `the first of rbee's preferred quantizations the repo has (${QUANTIZATION_PREFERENCE.slice(0, 5).join(" > ")} …)`;
      return { filePath: match, reason: `picked ${match} (${preferred}) among ${models.length} GGUF files: ${why}; name a file or a quantization (hf:${repo}:Q8_0) to choose another` };
    }
  }
  const first = models[0] ?? "";
  return { filePath: first, reason: `picked ${first}, the first of ${models.length} GGUF files by name (none names a known quantization)` };
}

/**
 * Whether the file's path (its name, or a folder such as `Q4_K_M/`) carries the quantization as a
 * whole word: `Q4_K` does not match `Q4_K_M`.
 */
export function hasQuantization(filePath: string, quantization: string): boolean {
  const name = filePath.replace(/\.gguf$/i, "");
  const escaped = quantization.replace(/[^A-Za-z0-9_]/g, "");
  return new RegExp(`(^|[^A-Za-z0-9])${escaped}($|[^A-Za-z0-9_])`, "i").test(name);
}

function available(models: readonly string[]): string {
  if (models.length === 0) return "none";
  const shown = models.slice(0, 10).join(", ");
  return models.length > 10 ? `${shown} and ${models.length - 10} more` : shown;
}
