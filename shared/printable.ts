// A peer's words in a log line: a hive or a worker may send any text as an error message or an
// exit's detail, and written as it came a line break in it starts a log line of its own (which a
// reader takes for the queen's) and an escape sequence steers the terminal showing the log.
// Control characters (and text-direction overrides, which make text read as other text) are
// written as escapes instead, and the text is cut at a length a log line can take.

/** Longest peer text a log line quotes, in characters. */
export const MAX_PRINTED_CHARS = 2000;

/** Control characters, line and paragraph separators, and text-direction overrides. */
export const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Whether `text` holds any UNPRINTABLE character. */
export function hasUnprintable(text: string): boolean {
  return new RegExp(UNPRINTABLE.source).test(text);
}

/** `text` with its control characters escaped (\n, \x1b, …) and cut at `maxChars`. */
export function printable(text: string, maxChars = MAX_PRINTED_CHARS): string {
  const cut = text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
  return cut.replace(UNPRINTABLE, (character) => {
    if (character === "\n") return "\\n";
    if (character === "\r") return "\\r";
    if (character === "\t") return "\\t";
    return `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}
