import { goJsonNumberLength } from "./go-json-int64.js";

/** A member's value as Go's JSON tokenizer saw it; numbers keep their text (no rounding). */
export type FlatJsonValue =
  | { kind: "string"; value: string }
  | { kind: "number"; text: string }
  | { kind: "boolean"; value: boolean }
  | { kind: "null" }
  | { kind: "object" | "array" };

/** One `"key": value` of the object, with the line the key is on. */
export interface FlatJsonMember {
  key: string;
  line: number;
  value: FlatJsonValue;
}

/**
 * The members of a JSON object whose values are scalars, in order, read with the rules of Go's
 * protojson tokenizer; or a syntax error that gives the line, never the text. Reading stops at a
 * value that is an object or an array (no field of the token file takes one, so it is an error
 * whatever follows). Hand-written rather than JSON.parse, which rounds numbers past 2^53, keeps
 * the last of repeated keys, and refuses Go's `1e` (read as 1); strings are still decoded by
 * JSON.parse, one at a time.
 */
export function readFlatJsonObject(text: string): { members: FlatJsonMember[] } | { error: string } {
  const members: FlatJsonMember[] = [];
  let i = 0;
  // Lines counted up to `counted`, once: positions asked for only grow.
  let counted = 0;
  let line = 1;
  const lineAt = (pos: number) => {
    for (; counted < pos && counted < text.length; counted++) if (text[counted] === "\n") line++;
    return line;
  };
  const fail = (pos = i) => ({
    error: pos >= text.length ? "unexpected end of JSON input" : `invalid JSON at line ${lineAt(pos)}`,
  });
  const skipSpace = () => {
    while (i < text.length && " \t\r\n".includes(text[i] as string)) i++;
  };
  const readString = (): string | undefined => {
    const start = i;
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) return undefined;
      if (c === '"') break;
      if (c < " ") return undefined;
      i += c === "\\" ? 2 : 1;
    }
    i++;
    let value: string;
    try {
      value = JSON.parse(text.slice(start, i)) as string;
    } catch {
      return undefined;
    }
    // Go's decoder refuses a surrogate escape that is not one half of a pair.
    return LONE_SURROGATE.test(value) ? undefined : value;
  };

  skipSpace();
  // Another JSON value is not a token file; anything else is not JSON.
  if (/^["[\d\-tfn]/.test(text.slice(i, i + 1))) return { error: "expecting a JSON object" };
  if (text[i] !== "{") return fail();
  i++;
  skipSpace();
  if (text[i] === "}") {
    i++;
    skipSpace();
    return i === text.length ? { members } : fail();
  }
  for (;;) {
    skipSpace();
    if (text[i] !== '"') return fail();
    const keyLine = lineAt(i);
    const key = readString();
    if (key === undefined) return fail();
    skipSpace();
    if (text[i] !== ":") return fail();
    i++;
    skipSpace();
    const c = text[i];
    let value: FlatJsonValue;
    if (c === '"') {
      const s = readString();
      if (s === undefined) return fail();
      value = { kind: "string", value: s };
    } else if (c === "{" || c === "[") {
      members.push({ key, line: keyLine, value: { kind: c === "{" ? "object" : "array" } });
      return { members };
    } else {
      const literal = /^(true|false|null)(?![-+._a-zA-Z0-9])/.exec(text.slice(i, i + 6));
      if (literal) {
        const word = literal[1] as string;
        value = word === "null" ? { kind: "null" } : { kind: "boolean", value: word === "true" };
        i += word.length;
      } else {
        const length = goJsonNumberLength(text, i);
        if (length <= 0) return fail();
        value = { kind: "number", text: text.slice(i, i + length) };
        i += length;
      }
    }
    members.push({ key, line: keyLine, value });
    skipSpace();
    if (text[i] === ",") {
      i++;
      continue;
    }
    if (text[i] !== "}") return fail();
    i++;
    skipSpace();
    return i === text.length ? { members } : fail();
  }
}

/** A UTF-16 surrogate without its pair: a JSON string that has no UTF-8 form. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
