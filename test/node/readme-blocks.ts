// Test support for test/node/readme-commands.test.ts: the README's fenced code blocks, the
// commands in its shell blocks, and the markers that say how a command runs on a local cloud.
// A marker is an HTML comment right above a block (invisible on the rendered page):
//   <!-- readme-test: npm run deploy => npm run deploy:check -- --outdir "$RBEE_TEST_DIR/dist" -->
// replaces that text in that block: a command that needs a Cloudflare account runs its local
// stand-in, a placeholder (the printed key, your subdomain) gets the test cloud's value.

export interface Substitution {
  from: string;
  to: string;
}

export interface ReadmeBlock {
  /** The fence's language, lower case; "" for none. */
  language: string;
  /** 1-based line of the opening fence, for messages. */
  line: number;
  text: string;
  substitutions: Substitution[];
}

const FENCE = /^```(\S*)\s*$/;
const MARKER = /^<!-- readme-test: (.+?) => (.+) -->$/;

/** Every fenced block of `markdown`, with the markers right above it. Throws on a marker that stands apart from a block. */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split("\n");
  const blocks: ReadmeBlock[] = [];
  let pending: Substitution[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] ?? "";
    const marker = MARKER.exec(line);
    if (marker !== null) {
      pending.push({ from: marker[1] ?? "", to: marker[2] ?? "" });
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence === null) {
      if (pending.length > 0) throw new Error(`README line ${index + 1}: a readme-test marker must stand right above a code block`);
      continue;
    }
    const start = index;
    const body: string[] = [];
    for (index += 1; index < lines.length && !/^```\s*$/.test(lines[index] ?? ""); index += 1) body.push(lines[index] ?? "");
    if (index >= lines.length) throw new Error(`README line ${start + 1}: a code block that never ends`);
    blocks.push({ language: (fence[1] ?? "").toLowerCase(), line: start + 1, text: body.join("\n"), substitutions: pending });
    pending = [];
  }
  return blocks;
}

/** Throws when a marker's text is not in its block: a marker left behind by an edit. */
export function checkMarkers(block: ReadmeBlock): void {
  for (const { from } of block.substitutions) {
    if (!block.text.includes(from)) throw new Error(`README line ${block.line}: the readme-test marker's '${from}' is not in the block below it`);
  }
}

/**
 * `command` with its block's markers applied in one pass: at each place the longest text a marker
 * names is replaced, and what a marker put in is not replaced again (`npm pack` inside another
 * marker's `npm install -g "$(npm pack --silent)"` stays that marker's).
 */
export function substitute(command: string, substitutions: readonly Substitution[]): string {
  const longestFirst = [...substitutions].sort((a, b) => b.from.length - a.from.length);
  let result = "";
  for (let index = 0; index < command.length; ) {
    const match = longestFirst.find(({ from }) => command.startsWith(from, index));
    result += match === undefined ? command[index] : match.to;
    index += match === undefined ? 1 : match.from.length;
  }
  return result;
}

/**
 * The commands of a shell block: lines joined across a trailing backslash, without blank lines,
 * comment lines and trailing comments (a `#` after a space, outside quotes).
 */
export function shellCommands(text: string): string[] {
  const commands: string[] = [];
  let current = "";
  for (const line of text.split("\n")) {
    if (current === "" && (line.trim() === "" || line.trim().startsWith("#"))) continue;
    const joined = current + line;
    if (joined.endsWith("\\")) {
      current = joined.slice(0, -1);
      continue;
    }
    commands.push(withoutComment(joined).trim());
    current = "";
  }
  if (current !== "") commands.push(withoutComment(current).trim());
  return commands;
}

function withoutComment(command: string): string {
  let quote: string | undefined;
  for (let index = 0; index < command.length; index += 1) {
    const char = command[index];
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else if (char === "\\" && quote === '"') index += 1;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === "\\") {
      index += 1;
    } else if (char === "#" && /\s/.test(command[index - 1] ?? "")) {
      return command.slice(0, index);
    }
  }
  return command;
}
