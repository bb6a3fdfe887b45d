import { errorMessage } from "./fs-errors.js";

/** Longest text {@link escapeForLog} keeps by default (Go's pRPC client keeps 4096 bytes of an error body). */
export const MAX_LOG_TEXT = 4096;

/** Longest whole message (an error around a body of {@link MAX_LOG_TEXT}, escapes included). */
export const MAX_MESSAGE_TEXT = 4 * MAX_LOG_TEXT;

/**
 * Characters that must not reach a terminal or a log raw: C0 controls, DEL, C1 controls, the line
 * and paragraph separators, bidirectional overrides and marks, and lone UTF-16 surrogates.
 */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const SHORT_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Makes text from outside (a server's answer, a file, an error of a network library) safe to show
 * as one line: control characters, escape sequences, line separators and bidi overrides become
 * visible escapes (`\n`, `\x1b`, `\u202e`), and text over `maxChars` is cut with `...`.
 * Backslashes are left alone, so escaping twice changes nothing.
 */
export function escapeForLog(text: string, maxChars = MAX_LOG_TEXT): string {
  // Cut first (a long body costs nothing more than its kept part), then escape, then cut again at
  // an escape boundary so `\x1b` is never split.
  const clipped = text.length > maxChars;
  const escaped = (clipped ? text.slice(0, maxChars) : text).replace(UNSAFE, escapeChar);
  if (escaped.length <= maxChars) return clipped ? `${escaped}...` : escaped;
  const cut = escaped.slice(0, maxChars).replace(/\\(x[0-9a-f]?|u[0-9a-f]{0,3})?$/, "");
  return `${cut}...`;
}

function escapeChar(c: string): string {
  const short = SHORT_ESCAPES[c];
  if (short) return short;
  const code = c.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Folds a multi-line message onto one line (newlines and the blanks around them become one space), escaped. */
export function oneLine(text: string, maxChars = MAX_LOG_TEXT): string {
  // One pass over each run of blanks (a pattern with \s* on both sides backtracks quadratically).
  const folded = text.replace(/\s+/g, (blanks) => (/[\r\n]/.test(blanks) ? " " : blanks));
  return escapeForLog(folded.trim(), maxChars);
}

/** The message of anything thrown, as one escaped line of at most {@link MAX_MESSAGE_TEXT}. */
export function printableError(err: unknown, maxChars = MAX_MESSAGE_TEXT): string {
  return escapeForLog(errorMessage(err), maxChars);
}
