/**
 * A text as a double-quoted, escaped, printable-ASCII string (JSON escapes, then every other
 * character outside 0x20-0x7e as \uXXXX: DEL, C1 controls, U+2028, bidi overrides and the like).
 */
export function quote(text: string): string {
  return JSON.stringify(text).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
