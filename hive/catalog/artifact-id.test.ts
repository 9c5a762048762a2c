// Artifact ids come from users; these tests throw hostile ids at the checks and nasty strings at
// folderNameFor, and prove that nothing an id can say leads outside the catalog root.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RbeeError } from "../../shared/errors.js";
import { checkArtifactId, checkSafeSegment, folderNameFor, resolveInside } from "./artifact-id.js";

const ROOT = path.resolve("/srv/rbee/models");
const SAFE_FOLDER = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;

function thrown(fn: () => unknown): RbeeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RbeeError) return error;
    throw error;
  }
  throw new Error("expected an RbeeError, nothing was thrown");
}

/** A small deterministic PRNG, so the property loops try the same strings on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = [
  "..", ".", "/", "\\", ":", "\u0000", "\n", "\r", "\t", " ", "-", "_", "+", "~", "$", "%2e%2e", "a", "Z", "0", "9",
  "hf", "org", "file.gguf", "é", "日本語", "🐝", "\u202e", "\u00a0", "\ud800", "\udfff", "CON", "nul", ".git", "\u007f", "-abcdef012345",
];

function nastyStrings(count: number): string[] {
  const random = mulberry32(7);
  const strings = new Set<string>([
    "", ".", "..", "...", "/", "\\", "a/../b", "../../etc/passwd", "hf:../../x", ".hidden", "-dash", "_under", "+plus",
    "x".repeat(2000), ".".repeat(300), "é".repeat(300), "a..b", "a.", "A", "a", "\ud800", "\udc00", "\ud83d\udc1d",
  ]);
  while (strings.size < count) {
    const parts = 1 + Math.floor(random() * 8);
    let value = "";
    for (let i = 0; i < parts; i++) value += FRAGMENTS[Math.floor(random() * FRAGMENTS.length)] ?? "";
    strings.add(value);
  }
  return [...strings];
}

describe("checkArtifactId", () => {
  it.each([
    ["..", "'..' segment"],
    ["../../etc/passwd", "'..' segment"],
    ["hf:../../x", "'..' segment"],
    ["a/../b", "'..' segment"],
    ["hf:org/repo:..", "'..' segment"],
    ["bad\u0000id", "control characters"],
    ["bad\nid", "control characters"],
    ["bad\u007fid", "control characters"],
    ["C:\\Windows\\system32", "backslash"],
    ["hf:org\\repo:f.gguf", "backslash"],
    ["", "1–1024 characters"],
    ["x".repeat(2000), "1–1024 characters"],
  ])("refuses %j with invalid_artifact_id, saying why", (id, why) => {
    const error = thrown(() => checkArtifactId(id, "model"));
    expect(error.code).toBe("invalid_artifact_id");
    expect(error.status).toBe(400);
    expect(error.message).toContain(why);
    expect(error.message).toMatch(/^model id '/);
  });

  it("shows a refused id printably: controls escaped, long ids cut", () => {
    expect(thrown(() => checkArtifactId("bad\u0000id", "model")).message).toContain("'bad\\x00id'");
    expect(thrown(() => checkArtifactId("bad\nid", "model")).message).toContain("'bad\\x0aid'");
    const long = thrown(() => checkArtifactId("x".repeat(2000), "model")).message;
    expect(long.length).toBeLessThan(300);
    expect(long).toContain("…");
    // eslint-disable-next-line no-control-regex
    expect(long).not.toMatch(/[\u0000-\u001f]/);
  });

  it.each(["hf:org/repo:file.gguf", "https://example.com/m.gguf", "file:/models/a b.gguf", "cpu-llm-worker-rbee-v0.1.0-linux", "a..b", "hf:o/r:.x"])(
    "accepts %j and returns it unchanged",
    (id) => {
      expect(checkArtifactId(id, "model")).toBe(id);
    },
  );
});

describe("checkSafeSegment", () => {
  it.each(["", ".", "..", ".hidden", "a/b", "a\\b", "a..b", "a b", "-x", "x".repeat(201), "é.gguf"])("refuses %j", (name) => {
    const error = thrown(() => checkSafeSegment(name, "GGUF file name"));
    expect(error.code).toBe("invalid_artifact_id");
    expect(error.message).toContain("GGUF file name");
  });

  it.each(["model.Q4_K_M.gguf", "cpu-llm-worker-rbee-v0.1.0-linux", "a+b_c-d.e", "x".repeat(200)])("accepts %j", (name) => {
    expect(checkSafeSegment(name, "name")).toBe(name);
  });
});

describe("folderNameFor", () => {
  it.each(["cpu-llm-worker-rbee-v0.1.0-linux", "cuda-llm-worker-rbee-v1.2.3-rc.1-linux", "model.gguf", "abc"])("keeps the safe id %j as its own folder", (id) => {
    expect(folderNameFor(id)).toBe(id);
  });

  it("gives hf:o/r:f.gguf and hf:o/r/f.gguf different folders with a readable slug", () => {
    const colon = folderNameFor("hf:o/r:f.gguf");
    const slash = folderNameFor("hf:o/r/f.gguf");
    expect(colon).not.toBe(slash);
    expect(colon).toMatch(/^hf_o_r_f\.gguf-[0-9a-f]{12}$/);
    expect(slash).toMatch(/^hf_o_r_f\.gguf-[0-9a-f]{12}$/);
  });

  it("gives the same folder for the same id every time", () => {
    expect(folderNameFor("hf:org/repo:model.gguf")).toBe(folderNameFor("hf:org/repo:model.gguf"));
  });

  it("never lets a literal id take the folder of a hashed one", () => {
    const hashed = folderNameFor("hf:o/r:f.gguf");
    expect(folderNameFor(hashed)).not.toBe(hashed);
  });

  it("keeps ids that differ only in letter case apart, even on a case-insensitive disk", () => {
    const folders = ["abc", "ABC", "Abc", "hf:o/R:f.gguf", "hf:o/r:f.gguf"].map((id) => folderNameFor(id).toLowerCase());
    expect(new Set(folders).size).toBe(folders.length);
  });

  it("keeps ids apart that differ only in an unpaired surrogate", () => {
    expect(folderNameFor("hf:a\ud800")).not.toBe(folderNameFor("hf:a\udc00"));
  });

  it("gives a single safe path segment inside the root for every nasty string", () => {
    for (const id of nastyStrings(3000)) {
      const folder = folderNameFor(id);
      expect(folder, JSON.stringify(id)).toMatch(SAFE_FOLDER);
      expect(folder, JSON.stringify(id)).not.toContain("..");
      expect(path.dirname(resolveInside(ROOT, folder)), JSON.stringify(id)).toBe(ROOT);
    }
  });

  it("gives distinct folders to distinct strings, compared case-insensitively", () => {
    const owners = new Map<string, string>();
    for (const id of nastyStrings(3000)) {
      const folder = folderNameFor(id).toLowerCase();
      const owner = owners.get(folder);
      if (owner !== undefined) expect.fail(`${JSON.stringify(owner)} and ${JSON.stringify(id)} share the folder ${folder}`);
      owners.set(folder, id);
    }
  });
});

describe("resolveInside", () => {
  it.each(["..", ".", "", "../x", "a/b", "/etc", "a\\..\\b", ".locks", "x".repeat(201)])("refuses the name %j", (name) => {
    expect(thrown(() => resolveInside(ROOT, name)).code).toBe("invalid_artifact_id");
  });

  it("joins a safe name directly under the resolved root", () => {
    expect(resolveInside(`${ROOT}/`, "model.gguf")).toBe(path.join(ROOT, "model.gguf"));
    expect(resolveInside("relative/root", "x")).toBe(path.resolve("relative/root", "x"));
    expect(resolveInside("/", "x")).toBe(path.resolve("/x"));
  });
});
