/**
 * Go's `%q` (strconv.Quote) for values echoed in flag errors, so they stay one line and read
 * exactly as the Go binary prints them.
 */
export function goQuote(text: string): string {
  let out = "";
  for (const ch of text) out += ch === '"' || ch === "\\" ? `\\${ch}` : escapeRune(ch);
  return `"${out}"`;
}

/**
 * Text that Go prints raw (a flag name, a whole argument), with only the characters strconv.Quote
 * would escape escaped the same way: printable text is unchanged, a newline cannot split the line.
 */
export function escapeUnprintable(text: string): string {
  let out = "";
  for (const ch of text) out += escapeRune(ch);
  return out;
}

/** Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[ \p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const NAMED: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
};

function escapeRune(ch: string): string {
  if (PRINTABLE.test(ch)) return ch;
  const named = NAMED[ch];
  if (named !== undefined) return named;
  let code = ch.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `\\x${hex(code, 2)}`;
  if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd; // a lone surrogate is not a valid rune
  return code < 0x10000 ? `\\u${hex(code, 4)}` : `\\U${hex(code, 8)}`;
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, "0");
}
