import { describe, expect, it } from "vitest";
import { isModelSource, modelNameFromSource } from "./model-name.js";

describe("modelNameFromSource", () => {
  it("names a model after its GGUF file, whatever the source", () => {
    expect(modelNameFromSource("hf:org/repo:Qwen2.5-0.5B-Q4_K_M.gguf")).toBe("Qwen2.5-0.5B-Q4_K_M");
    expect(modelNameFromSource("hf:org/repo/sub/Tiny.GGUF")).toBe("Tiny");
    expect(modelNameFromSource("file:/models/rbee-tiny.gguf")).toBe("rbee-tiny");
    expect(modelNameFromSource("file:///models/my%20model.gguf")).toBe("my-model");
    expect(modelNameFromSource("https://host/x/model.gguf?X-Amz-Signature=abc#frag")).toBe("model");
  });

  it("names a repo picked by quantization after the repo and the quantization, and leaves revisions out", () => {
    expect(modelNameFromSource("hf:org/Repo-GGUF:q4_k_m")).toBe("Repo-GGUF-Q4_K_M");
    expect(modelNameFromSource("hf:org/Repo-GGUF")).toBe("Repo-GGUF");
    expect(modelNameFromSource("hf:org/repo:x.gguf@v1.0")).toBe("x");
    expect(modelNameFromSource("hf:org/repo:x.gguf#main")).toBe("x");
  });

  it("never puts an @ in a name (it pins a hive) and never returns an empty one", () => {
    expect(modelNameFromSource("file:/m/a@b.gguf")).toBe("a-b");
    expect(modelNameFromSource("file:/m/.gguf")).toBe("model");
    expect(modelNameFromSource(`file:/m/${"x".repeat(300)}.gguf`)).toHaveLength(128);
  });
});

describe("isModelSource", () => {
  it("tells a source from a model name", () => {
    for (const source of ["hf:org/repo", "org/repo", "https://host/m.gguf", "http://host/m.gguf", "file:/m/tiny.gguf"]) expect(isModelSource(source), source).toBe(true);
    for (const name of ["rbee-tiny", "Qwen2.5-0.5B-Q4_K_M", "coder", "model@hive", "https:no-slashes"]) expect(isModelSource(name), name).toBe(false);
  });
});
