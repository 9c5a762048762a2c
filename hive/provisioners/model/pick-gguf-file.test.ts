import { describe, expect, it } from "vitest";
import { hasQuantization, pickGgufFile } from "./pick-gguf-file.js";

const REPO = [
  "README.md",
  "mmproj-model-f16.gguf",
  "model-Q8_0.gguf",
  "model-Q4_K_S.gguf",
  "model-Q4_K_M.gguf",
  "model-Q5_K_M.gguf",
  "BF16/model-BF16-00001-of-00002.gguf",
  "BF16/model-BF16-00002-of-00002.gguf",
];

describe("picking a GGUF from a repo", () => {
  it("prefers Q4_K_M and says why", () => {
    const pick = pickGgufFile("org/repo", REPO, null);
    expect(pick.filePath).toBe("model-Q4_K_M.gguf");
    expect(pick.reason).toMatch(/Q4_K_M.*size and quality/);
  });

  it("falls back along the preference list", () => {
    expect(pickGgufFile("org/repo", ["a-Q8_0.gguf", "a-Q6_K.gguf", "a-Q2_K.gguf"], null).filePath).toBe("a-Q8_0.gguf");
    expect(pickGgufFile("org/repo", ["a-Q2_K.gguf", "a-Q6_K.gguf"], null).filePath).toBe("a-Q6_K.gguf");
    expect(pickGgufFile("org/repo", ["b.gguf", "a.gguf"], null).filePath).toBe("a.gguf");
  });

  it("takes the only model file, never a projector or a split part", () => {
    expect(pickGgufFile("org/repo", ["mmproj-f16.gguf", "x.gguf"], null)).toMatchObject({ filePath: "x.gguf", reason: expect.stringMatching(/only GGUF/) });
    expect(() => pickGgufFile("org/repo", ["x-00001-of-00002.gguf", "x-00002-of-00002.gguf"], null)).toThrow(/split or auxiliary/);
    expect(() => pickGgufFile("org/repo", ["model.safetensors"], null)).toThrow(/no .gguf file/);
  });

  it("picks by a named quantization, whole words only", () => {
    expect(pickGgufFile("org/repo", REPO, "Q8_0").filePath).toBe("model-Q8_0.gguf");
    expect(hasQuantization("model-Q4_K_M.gguf", "Q4_K")).toBe(false);
    expect(hasQuantization("Q4_K_M/model.gguf", "Q4_K_M")).toBe(true);
    expect(() => pickGgufFile("org/repo", REPO, "Q3_K_S")).toThrow(/no single .gguf file with Q3_K_S.*model-Q4_K_M.gguf/);
    expect(() => pickGgufFile("org/repo", REPO, "BF16")).toThrow(/only as a split model .*; pick another quantization: .*model-Q4_K_M.gguf/);
    expect(() => pickGgufFile("org/repo", ["x-Q4_K_M-00001-of-00002.gguf", "x-Q4_K_M-00002-of-00002.gguf"], "Q4_K_M")).toThrow(
      /only as a split model .*; nor has it any other quantization as one file, so pick a repo that ships single-file GGUFs$/,
    );
  });
});
