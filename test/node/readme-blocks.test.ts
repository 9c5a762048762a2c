// How readme-commands.test.ts reads the README: blocks, their markers, and the commands in them.
import { describe, expect, it } from "vitest";
import { checkMarkers, readmeBlocks, shellCommands, substitute } from "./readme-blocks.js";

const FENCE = "```";

describe("the README's blocks", () => {
  it("finds each fenced block with its language, line and the markers right above it", () => {
    const markdown = ["# t", "", "<!-- readme-test: npm run deploy => npm run deploy:check -->", `${FENCE}sh`, "npm run deploy", FENCE, `${FENCE}js`, "x()", FENCE].join("\n");
    expect(readmeBlocks(markdown)).toEqual([
      { language: "sh", line: 4, text: "npm run deploy", substitutions: [{ from: "npm run deploy", to: "npm run deploy:check" }] },
      { language: "js", line: 7, text: "x()", substitutions: [] },
    ]);
  });

  it("refuses a marker that stands apart from a block, and a marker whose text its block lacks", () => {
    expect(() => readmeBlocks(["<!-- readme-test: a => b -->", "", `${FENCE}sh`, "a", FENCE].join("\n"))).toThrow("line 2: a readme-test marker must stand right above a code block");
    const [block] = readmeBlocks(["<!-- readme-test: gone => b -->", `${FENCE}sh`, "a", FENCE].join("\n"));
    expect(() => block && checkMarkers(block)).toThrow("the readme-test marker's 'gone' is not in the block below it");
  });

  it("splits a shell block into commands: continued lines joined, comments left out, quoted # kept", () => {
    const text = ["# a comment", "curl $QUEEN/x \\", "  -d '{\"a\":\"#1\"}'   # → an answer", "", 'echo "a # b" # c'].join("\n");
    expect(shellCommands(text)).toEqual([`curl $QUEEN/x   -d '{"a":"#1"}'`, 'echo "a # b"']);
  });

  it("applies markers in one pass, the longest first, never inside what a marker put in", () => {
    const substitutions = [
      { from: "npm pack", to: "npm pack --pack-destination D" },
      { from: 'npm install -g "$(npm pack --silent)"', to: "install-offline" },
    ];
    expect(substitute("npm pack", substitutions)).toBe("npm pack --pack-destination D");
    expect(substitute('npm install -g "$(npm pack --silent)"', substitutions)).toBe("install-offline");
  });
});
