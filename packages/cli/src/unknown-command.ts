import { goQuote } from "./go-quote.js";

/**
 * The line for a first argument that is a word, not a flag nor a subcommand: Go's flag package
 * stops at it and ignores every flag after it, so the run then fails on a required flag, which
 * hides the typo. Names the closest subcommand, if one is close. Undefined for a flag, `-` or "".
 */
export function unknownCommandLine(word: string, commands: readonly string[]): string | undefined {
  if (word === "" || word.startsWith("-")) return undefined;
  const list = `commands: ${commands.join(", ")}; a run takes flags only`;
  // A long word is no mistyped command but something pasted (a key's base64, say): not shown.
  if (word.length > MAX_SHOWN_WORD)
    return `the first argument is no command (${word.length} characters, not shown; ${list})`;
  const close = closestCommand(word, commands);
  return `unknown command ${goQuote(word)} (${close ? `did you mean ${close}?` : list})`;
}

/** Longest first word quoted back: commands are a few letters; a path fits too. */
const MAX_SHOWN_WORD = 64;

/** The command within a typo or two of `word` (a third of its length, at least one), if any. */
function closestCommand(word: string, commands: readonly string[]): string | undefined {
  const typed = word.toLowerCase();
  const allowed = Math.max(1, Math.floor(typed.length / 3));
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const command of commands) {
    const d = editDistance(typed, command);
    if (d < bestDistance) [best, bestDistance] = [command, d];
  }
  return best;
}

/**
 * Levenshtein distance (insert, delete, replace), one row at a time. Hand-written: the words are a
 * few letters long, and the only package at hand with one (yargs) would load its parser on this path.
 */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const replace = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min(replace, (previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}
