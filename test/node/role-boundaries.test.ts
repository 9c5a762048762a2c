// The walls between roles: queen/, hive/ and worker/ are deployed separately and may import only
// themselves and shared/, shared/ only itself; cli/ (the `rbee` CLI) talks to the queen over HTTP
// only, so it too imports only itself and shared/; production code never imports test code or vitest.
// Reads every import from the sources (tests included) and names the offending file and line.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ROLES = ["queen", "hive", "worker", "cli", "shared"] as const;

/** The package manifest belongs to no role: the hive reads its version from it. */
const MANIFEST = "package.json";

/** Where test-only code lives; a production file importing from one is a violation. */
const TEST_FOLDERS = new Set(["test", "testing"]);

function isTestFile(file: string): boolean {
  return file.endsWith(".test.ts");
}

/** Every module specifier in `source` with its line: static and type imports, re-exports, `import()`. */
function importsOf(source: string): Array<{ specifier: string; line: number }> {
  // The compiler's own scanner: it skips comments and strings, and sees multi-line imports whole.
  return ts.preProcessFile(source, true, true).importedFiles.map((imported) => ({
    specifier: imported.fileName,
    line: source.slice(0, imported.pos).split("\n").length,
  }));
}

/** Why importing `specifier` from `file` (relative to the repository root) breaks a wall, if it does. */
function problemWith(file: string, specifier: string): string | undefined {
  const production = !isTestFile(file);
  if (!specifier.startsWith(".")) {
    const isVitest = specifier === "vitest" || specifier.startsWith("vitest/");
    return production && isVitest ? "production code imports vitest" : undefined; // other packages are fine
  }
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
  const segments = target.split("/");
  if (production && segments.some((segment) => TEST_FOLDERS.has(segment))) return `production code imports test code ${target}`;
  if (target === MANIFEST) return undefined;
  const [fileRole] = file.split("/");
  const [targetRoot] = segments;
  const allowed = fileRole === "shared" ? ["shared"] : [fileRole, "shared"];
  if (targetRoot !== undefined && allowed.includes(targetRoot)) return undefined;
  // A role's tests may use the shared test scaffolding (test/support); production code may not.
  if (!production && targetRoot === "test") return undefined;
  return `${fileRole}/ imports ${target}, outside ${allowed.map((root) => `${root}/`).join(" and ")}`;
}

/** `file:line: problem` for each import of `source` that breaks a wall. */
function violations(file: string, source: string): string[] {
  return importsOf(source).flatMap(({ specifier, line }) => {
    const problem = problemWith(file, specifier);
    return problem === undefined ? [] : [`${file}:${line}: ${problem} ("${specifier}")`];
  });
}

/** The TypeScript sources of every role, relative to the repository root (generated `.d.ts` left out). */
function roleSources(): string[] {
  return ROLES.flatMap((role) =>
    readdirSync(path.join(REPO_ROOT, role), { recursive: true, encoding: "utf8" })
      .filter((name) => name.endsWith(".ts") && !name.endsWith(".d.ts"))
      .map((name) => path.posix.join(role, name.split(path.sep).join("/"))),
  );
}

describe("role boundaries", () => {
  it("catches a role importing another role, test code or vitest", () => {
    const source = [
      'import { x } from "../hive/x.js";',
      "import {",
      "  y,",
      '} from "./testing/y.js";',
      'import { z } from "zod";',
      'const later = await import("../queen/app.js");',
      '// import { ignored } from "../hive/comment.js";',
      'import { describe } from "vitest";',
      'import { e } from "../shared/errors.js";',
    ].join("\n");
    expect(violations("worker/main.ts", source)).toEqual([
      'worker/main.ts:1: worker/ imports hive/x.js, outside worker/ and shared/ ("../hive/x.js")',
      'worker/main.ts:4: production code imports test code worker/testing/y.js ("./testing/y.js")',
      'worker/main.ts:6: worker/ imports queen/app.js, outside worker/ and shared/ ("../queen/app.js")',
      'worker/main.ts:8: production code imports vitest ("vitest")',
    ]);
    expect(violations("shared/protocol/x.ts", 'import { h } from "../../hive/h.js";')).toHaveLength(1);
    expect(violations("cli/commands/x.ts", 'import { q } from "../../queen/app.js";\nimport { s } from "../../shared/errors.js";')).toEqual([
      'cli/commands/x.ts:1: cli/ imports queen/app.js, outside cli/ and shared/ ("../../queen/app.js")',
    ]);
    expect(violations("worker/x.test.ts", 'import { s } from "../test/support/s.js";\nimport { it } from "vitest";')).toEqual([]);
  });

  it("finds no role importing another role, test code or vitest", () => {
    const files = roleSources();
    // A few hundred sources today; far fewer means the walk missed them and proves nothing.
    expect(files.length).toBeGreaterThan(150);
    const found = files.flatMap((file) => violations(file, readFileSync(path.join(REPO_ROOT, file), "utf8")));
    expect(found).toEqual([]);
  });
});
