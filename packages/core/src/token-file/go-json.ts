/**
 * JSON.stringify as Go's encoding/json writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped as
 * `\u00XX` (HTML-safe), so files and answers read byte for byte like Go's.
 */
export function goJsonStringify(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
