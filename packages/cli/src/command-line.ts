import { goQuote } from "./go-quote.js";

/** Characters a POSIX shell takes literally in an unquoted word. */
const PLAIN_WORD = /^[\w@%+=:,./-]+$/;

/**
 * A command line to show the operator, one line whatever the arguments hold: plain words as they
 * are, others double-quoted with Go's escapes (a path with a space pastes into a shell as is).
 */
export function commandLine(words: readonly string[]): string {
  return words.map((w) => (PLAIN_WORD.test(w) ? w : goQuote(w))).join(" ");
}
