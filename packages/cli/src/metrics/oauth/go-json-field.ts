/**
 * A struct field as Go's encoding/json fills it from a JSON object: any key equal to `name` under
 * Unicode case folding (`ſ` is `s`, the Kelvin sign is `k`); when several match, the last wins.
 */
export function goJsonField(object: Record<string, unknown>, name: string): unknown {
  let found: unknown;
  for (const k of Object.keys(object)) {
    if (k.length === name.length && [...k].every((c, i) => fold(c) === name[i])) found = object[k];
  }
  return found;
}

function fold(c: string): string {
  if (c === "\u017f") return "s";
  if (c === "\u212a") return "k";
  return c.charCodeAt(0) < 128 ? c.toLowerCase() : c;
}
