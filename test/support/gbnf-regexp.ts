// A GBNF expression read as a RegExp, so tests of the worker's own grammars (number ranges,
// formats) can check them exhaustively or against near misses without llama.cpp, and the fewest
// and most characters it writes. It reads only expressions without rule references, which are
// regular: literals, classes, groups, alternatives and repetitions map one to one.

const TOKEN = /\s*("(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]|[()|?*+]|\{\d+(?:,\d*)?\})/y;

function tokens(expression: string): string[] {
  const found: string[] = [];
  const token = new RegExp(TOKEN.source, "y");
  while (token.lastIndex < expression.trimEnd().length) {
    const match = token.exec(expression);
    if (match === null) throw new Error(`cannot read the grammar at ${token.lastIndex}: ${expression}`);
    found.push(match[1] ?? "");
  }
  return found;
}

/** The expression as an anchored RegExp. */
export function asRegExp(expression: string): RegExp {
  let source = "";
  for (const item of tokens(expression)) {
    if (item.startsWith('"')) source += (JSON.parse(item) as string).replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
    else source += item === "(" ? "(?:" : item;
  }
  return new RegExp(`^(?:${source})$`);
}

/** The fewest and most characters the expression writes (`most` Infinity where it repeats without end). */
export function gbnfLengths(expression: string): { fewest: number; most: number } {
  const items = tokens(expression);
  let at = 0;
  const alternatives = (): { fewest: number; most: number } => {
    let result = sequence();
    while (items[at] === "|") {
      at++;
      const next = sequence();
      result = { fewest: Math.min(result.fewest, next.fewest), most: Math.max(result.most, next.most) };
    }
    return result;
  };
  const sequence = (): { fewest: number; most: number } => {
    let fewest = 0;
    let most = 0;
    while (at < items.length && items[at] !== "|" && items[at] !== ")") {
      const item = items[at++] ?? "";
      let part = { fewest: 1, most: 1 };
      if (item === "(") {
        part = alternatives();
        at++; // ")"
      } else if (item.startsWith('"')) {
        const text = JSON.parse(item) as string;
        part = { fewest: text.length, most: text.length };
      }
      const [low, high] = repetition(items[at]);
      if (low !== undefined) at++;
      fewest += part.fewest * (low ?? 1);
      most += high === Infinity ? (part.most === 0 ? 0 : Infinity) : part.most * (high ?? 1);
    }
    return { fewest, most };
  };
  return alternatives();
}

/** The counts a repetition token takes, or nothing for another token. */
function repetition(item: string | undefined): [number, number] | [] {
  if (item === "?") return [0, 1];
  if (item === "*") return [0, Infinity];
  if (item === "+") return [1, Infinity];
  const counts = item === undefined ? null : /^\{(\d+)(,(\d*))?\}$/.exec(item);
  if (counts === null) return [];
  const low = Number(counts[1]);
  return [low, counts[2] === undefined ? low : counts[3] === "" ? Infinity : Number(counts[3])];
}
