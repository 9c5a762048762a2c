// A GBNF expression read as a RegExp, so tests of the worker's own grammars (number ranges,
// formats) can check them exhaustively or against near misses without llama.cpp. It reads only
// expressions without rule references, which are regular: literals, classes, groups, alternatives
// and repetitions map one to one.

/** The expression as an anchored RegExp. */
export function asRegExp(expression: string): RegExp {
  const token = /\s*("(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]|[()|?*+]|\{\d+(?:,\d*)?\})/y;
  let source = "";
  while (token.lastIndex < expression.trimEnd().length) {
    const match = token.exec(expression);
    if (match === null) throw new Error(`cannot read the grammar at ${token.lastIndex}: ${expression}`);
    const [, item = ""] = match;
    if (item.startsWith('"')) source += (JSON.parse(item) as string).replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
    else source += item === "(" ? "(?:" : item;
  }
  return new RegExp(`^(?:${source})$`);
}
