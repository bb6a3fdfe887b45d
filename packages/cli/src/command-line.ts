import { escapeForLog } from "@luci-machine-tokend/core/internal";

/** Characters a POSIX shell takes literally in an unquoted word (not in the command's place). */
const PLAIN_WORD = /^[\w@%+=:,./-]+$/;

/**
 * A command line to show the operator, one line that pastes into a POSIX shell and runs exactly
 * these words, whatever they hold (a path may come from a directory others can write): plain words
 * as they are, others in single quotes (`'` as `'\''`), so `$(…)`, backticks and `;` stay text.
 * A word with a control character (a newline would split the line) is written `$'…'` with
 * escapes: the form bash, zsh, ksh and POSIX.1-2024 shells read (dash before 0.5.13 does not; there
 * it stays inert text).
 */
export function commandLine(words: readonly string[]): string {
  return words.map(shellWord).join(" ");
}

/** One word of {@link commandLine}. */
export function shellWord(word: string): string {
  if (PLAIN_WORD.test(word)) return word;
  const chars = [...word];
  if (!chars.some(isUnsafe)) return `'${word.replaceAll("'", "'\\''")}'`;
  return `$'${chars.map(dollarQuoteChar).join("")}'`;
}

/** What the log would escape: control characters, line separators, bidi controls. */
function isUnsafe(ch: string): boolean {
  return escapeForLog(ch) !== ch;
}

const DOLLAR_QUOTE_ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  "'": "\\'",
  "\n": "\\n",
  "\t": "\\t",
  "\r": "\\r",
  // History expansion of an interactive bash could act on it.
  "!": "\\041",
};

function dollarQuoteChar(ch: string): string {
  const named = DOLLAR_QUOTE_ESCAPES[ch];
  if (named !== undefined) return named;
  if (!isUnsafe(ch)) return ch;
  // Three octal digits per UTF-8 byte: `\x` may take a following hex digit along in some shells.
  return [...Buffer.from(ch, "utf8")].map((b) => `\\${b.toString(8).padStart(3, "0")}`).join("");
}
