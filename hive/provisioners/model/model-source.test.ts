import { describe, expect, it } from "vitest";
import { RbeeError } from "../../../shared/errors.js";
import { huggingFaceConfig } from "./hugging-face-config.js";
import { ModelSource } from "../../../shared/protocol/job-operation.js";
import { modelNameFromSource } from "../../../shared/models/model-name.js";
import { canonicalModelId, parseModelSource } from "./model-source.js";

function refusal(source: string): RbeeError {
  try {
    parseModelSource(source);
  } catch (error) {
    if (error instanceof RbeeError) return error;
    throw error;
  }
  throw new Error(`'${source}' was accepted`);
}

describe("model ids", () => {
  it("reads hf: ids with a file after ':' or '/', in subfolders, and with a revision", () => {
    expect(parseModelSource("hf:org/repo:tiny-Q4_K_M.gguf")).toEqual({ kind: "hugging-face", repo: "org/repo", filePath: "tiny-Q4_K_M.gguf", quantization: null, revision: "main" });
    expect(parseModelSource("hf:org/repo/tiny.gguf")).toMatchObject({ filePath: "tiny.gguf", revision: "main" });
    expect(parseModelSource("hf:org/repo/Q8_0/tiny.gguf#v1.0")).toMatchObject({ filePath: "Q8_0/tiny.gguf", revision: "v1.0" });
    expect(parseModelSource("hf:org/repo:tiny.gguf@0123abc")).toMatchObject({ filePath: "tiny.gguf", revision: "0123abc" });
  });

  it("reads a quantization name or a bare repo, which leave the file to pick", () => {
    expect(parseModelSource("hf:org/repo:q4_k_m")).toMatchObject({ filePath: null, quantization: "Q4_K_M" });
    expect(parseModelSource("hf:Org.Name/Repo-GGUF")).toMatchObject({ repo: "Org.Name/Repo-GGUF", filePath: null, quantization: null });
  });

  it("takes a bare org/repo id (the original rbee's form) as Hugging Face, with a file, quantization or revision as after hf:", () => {
    expect(parseModelSource("meta-llama/Llama-2-7b")).toEqual({ kind: "hugging-face", repo: "meta-llama/Llama-2-7b", filePath: null, quantization: null, revision: "main" });
    expect(parseModelSource("org/repo:q4_k_m")).toMatchObject({ kind: "hugging-face", quantization: "Q4_K_M" });
    expect(parseModelSource("org/repo/sub/x.gguf@v1")).toMatchObject({ kind: "hugging-face", filePath: "sub/x.gguf", revision: "v1" });
  });

  it("names the bare id and what is wrong with it when it refuses one", () => {
    expect(refusal("org/repo:weights.bin").message).toMatch(/^model id 'org\/repo:weights.bin' names 'weights.bin', which is neither a .gguf file nor a quantization/);
    expect(refusal("org/repo/../x.gguf").message).toMatch(/contains a '\.\.' segment/);
    expect(refusal("../x").message).toMatch(/contains a '\.\.' segment/);
    expect(refusal("/models/x.gguf").message).toMatch(/is not one rbee can fetch; use hf:org\/repo or just org\/repo \(Hugging Face\)/);
  });

  it("reads plain URLs and local files with their file names", () => {
    expect(parseModelSource("https://example.com/models/x.gguf?download=1")).toMatchObject({ kind: "https", fileName: "x.gguf" });
    expect(parseModelSource("http://127.0.0.1:8080/x.gguf")).toMatchObject({ kind: "https", fileName: "x.gguf" });
    expect(parseModelSource("file:/models/x.gguf")).toEqual({ kind: "file", filePath: "/models/x.gguf", fileName: "x.gguf" });
    expect(parseModelSource("file:///models/x.gguf")).toEqual({ kind: "file", filePath: "/models/x.gguf", fileName: "x.gguf" });
  });

  it.each([
    "hf:../../x",
    "hf:org/repo:../../evil.gguf",
    "hf:org/repo/../../../x.gguf",
    "hf:org/repo/sub/../x.gguf",
    "hf:org/repo:/etc/evil.gguf",
    "hf:org/repo//etc/evil.gguf",
    "hf:org/repo:.hidden.gguf",
    "hf:org/repo:a\u0000.gguf",
    "hf:org/repo:sub\\evil.gguf",
    "hf:org/repo:%2e%2e%2fevil.gguf",
    "hf:org",
    "hf:org/re po",
    "hf:org/repo:file.gguf#../../main",
    "hf:org/repo:tiny.gguf:extra.gguf",
    "https://example.com/../../x.gguf",
    "https://example.com/a/%2e%2e/x.gguf",
    "https://example.com/..%2f..%2fx.gguf",
    "https://example.com/x.bin",
    "https://user:pass@example.com/x.gguf",
    "http://example.com/x.gguf",
    "file:relative/x.gguf",
    "file:/models/../etc/x.gguf",
    "file:///models/%2e%2e/x.gguf",
    "file:/models/x.txt",
    "ftp://example.com/x.gguf",
    "../x",
    "./org/repo",
    "org/../x",
    "org/repo/../../x.gguf",
    "org/repo:../../evil.gguf",
    "-org/repo",
    "org",
    "org/re po",
    "org/repo#../../main",
  ])("refuses %j with a 400", (source) => {
    const error = refusal(source);
    expect(error.status).toBe(400);
    expect(["invalid_artifact_id", "unsupported_artifact_id"]).toContain(error.code);
  });

  it("says how to serve a file: model whose name the catalog cannot take: rename it, or link it under a safe name", () => {
    expect(refusal("file:/models/My Model (v2).gguf").message).toBe(
      "model file '/models/My Model (v2).gguf' has a name the catalog cannot take (letters, digits, '.', '_', '+' and '-' only, not starting with '.'); " +
        "rename it, or link it under such a name (ln -s '/models/My Model (v2).gguf' '/models/My-Model-v2.gguf') and ask for file:/models/My-Model-v2.gguf",
    );
    // A quote in the path stays one shell word; the name offered is itself one the catalog takes.
    expect(refusal("file:/models/Bob's a..b model.gguf").message).toContain("(ln -s '/models/Bob'\\''s a..b model.gguf' '/models/Bob-s-a.b-model.gguf') and ask for file:/models/Bob-s-a.b-model.gguf");
    expect(refusal("file:/models/ü.gguf").message).toMatch(/; rename it$/);
    const long = `${"x".repeat(230)} y.gguf`;
    const offered = /and ask for file:\/models\/(\S+)$/.exec(refusal(`file:/models/${long}`).message)?.[1] ?? "";
    expect(offered).toMatch(/^x+\.gguf$/);
    expect(offered.length).toBeLessThanOrEqual(200);
  });

  it("says which forms are accepted when it refuses", () => {
    expect(refusal("http://example.com/x.gguf").message).toMatch(/only allowed for this machine/);
    expect(refusal("hf:org/repo:weights.bin").message).toMatch(/hf:org\/repo:Q4_K_M/);
  });
});

describe("Hugging Face settings", () => {
  it("reads HF_ENDPOINT and HF_TOKEN as huggingface_hub does", async () => {
    const none = "/nonexistent/rbee-token";
    expect(await huggingFaceConfig({ HF_TOKEN_PATH: none })).toEqual({ endpoint: "https://huggingface.co", token: null, tokenSource: null });
    expect(await huggingFaceConfig({ HF_ENDPOINT: "https://mirror.example/hf//", HF_TOKEN: " hf_abc\n", HF_TOKEN_PATH: none })).toEqual({
      endpoint: "https://mirror.example/hf",
      token: "hf_abc",
      tokenSource: "HF_TOKEN",
    });
    expect((await huggingFaceConfig({ HUGGING_FACE_HUB_TOKEN: "hf_old", HF_TOKEN_PATH: none })).token).toBe("hf_old");
  });

  it("refuses an HF_ENDPOINT that is not an http(s) URL", async () => {
    await expect(huggingFaceConfig({ HF_ENDPOINT: "ftp://hub" })).rejects.toThrow(/HF_ENDPOINT/);
  });
});

describe("canonical model ids", () => {
  it("gives every spelling of one file the same catalog id", () => {
    const spellings = (ids: string[]) => [...new Set(ids.map(canonicalModelId))];
    expect(spellings(["file:/m/x.gguf", "file:///m/x.gguf", "file://localhost/m/x.gguf"])).toEqual(["file:/m/x.gguf"]);
    expect(spellings(["hf:org/repo/x.gguf", "hf:org/repo:x.gguf", "hf:org/repo:x.gguf#main", "hf:org/repo/x.gguf@main"])).toEqual(["hf:org/repo:x.gguf"]);
    expect(spellings(["hf:org/repo/sub/x.gguf@v1", "hf:org/repo:sub/x.gguf#v1"])).toEqual(["hf:org/repo:sub/x.gguf@v1"]);
    expect(spellings(["hf:org/repo:q4_k_m", "hf:org/repo:Q4_K_M#main"])).toEqual(["hf:org/repo:Q4_K_M"]);
    expect(spellings(["meta-llama/Llama-2-7b", "hf:meta-llama/Llama-2-7b", "meta-llama/Llama-2-7b@main"])).toEqual(["hf:meta-llama/Llama-2-7b"]);
    expect(spellings(["org/repo/x.gguf", "org/repo:x.gguf", "hf:org/repo:x.gguf"])).toEqual(["hf:org/repo:x.gguf"]);
    expect(spellings(["https://Host.example:443/m/x.gguf?X-Amz-Signature=abc", "https://host.example/m/x.gguf#frag"])).toEqual(["https://host.example/m/x.gguf"]);
  });

  it("lets bare org/repo ids through the queen's schema, and names them as their hf: spelling", () => {
    expect(ModelSource.safeParse("meta-llama/Llama-2-7b").success).toBe(true);
    expect(ModelSource.safeParse("../x").success).toBe(false);
    expect(ModelSource.safeParse("/etc/x.gguf").success).toBe(false);
    for (const [bare, prefixed] of [["org/Repo-GGUF:q4_k_m", "hf:org/Repo-GGUF:q4_k_m"], ["meta-llama/Llama-2-7b", "hf:meta-llama/Llama-2-7b"], ["org/repo/x-Q8_0.gguf", "hf:org/repo/x-Q8_0.gguf"]]) {
      expect(modelNameFromSource(bare ?? "")).toBe(modelNameFromSource(prefixed ?? ""));
    }
  });

  it("keeps ids of different files apart", () => {
    expect(new Set(["hf:org/repo", "hf:org/repo:Q4_K_M", "hf:org/repo:x.gguf@v2", "hf:org/repo:x.gguf"].map(canonicalModelId)).size).toBe(4);
  });
});
