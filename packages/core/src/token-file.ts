import { errorMessage } from "./fs-errors.js";
import type { TokenFile } from "./gen/tokenserver/token_file_pb.js";
import { tokenFileFromJson, tokenFileToJson } from "./token-file-json.js";
import { decodeTokendState, encodeTokendState, type TokendState } from "./tokend-state.js";

const encoder = new TextEncoder();

/**
 * Serializes a token file exactly as Go tokend lays it out: proto3 JSON with the snake_case keys
 * in field order, int64 as strings, 2-space indent, no trailing newline, and `tokend_state` as
 * padded standard base64 of the state JSON. Zero fields are left out.
 */
export function encodeTokenFile(token: TokenFile, state: TokendState | undefined): Uint8Array {
  const withState = { ...token, tokendState: state ? encodeTokendState(state) : new Uint8Array() };
  return encoder.encode(tokenFileToJson(withState));
}

/** A parsed token file: the token and, when `tokend_state` decodes, the state; or the parse error. */
export type ParsedTokenFile =
  | { token: TokenFile; state?: TokendState; stateError?: string; error?: undefined }
  | { token?: undefined; error: string };

/**
 * Parses token file bytes strictly, like Go's protojson: unknown or duplicate keys and wrong value
 * types are errors; int64 may be a string or a number; bytes accept either base64 alphabet.
 * A `tokend_state` that does not decode leaves the token usable without a state.
 */
export function parseTokenFile(bytes: Uint8Array): ParsedTokenFile {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { error: "invalid UTF-8" };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { error: jsonSyntaxError(e) };
  }
  const keys = scanTopLevelKeys(text);
  const parsed = tokenFileFromJson(json, keys.duplicate, (key) => keys.lines.get(key));
  if (parsed.error !== undefined) return { error: parsed.error };
  const token = parsed.token;
  const decoded = decodeTokendState(token.tokendState);
  return decoded.state ? { token, state: decoded.state } : { token, stateError: decoded.error };
}

/**
 * The line of each top-level key of `text` (its first use) and the first repeated key: Go's
 * protojson rejects an object that names a field twice, while JSON.parse keeps the last one. The
 * token file is one flat object, so its top-level keys are enough.
 */
function scanTopLevelKeys(text: string): { lines: Map<string, number>; duplicate?: string } {
  // Called on valid JSON only, so a plain scan that skips strings and tracks nesting is exact.
  const lines = new Map<string, number>();
  let line = 1;
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") line++;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (lines.has(key)) return { lines: new Map([...lines, [key, line]]), duplicate: key };
        lines.set(key, line);
        expectKey = false;
      }
      i = j;
    } else if (c === "{" || c === "[") {
      depth++;
      expectKey = depth === 1;
    } else if (c === "}" || c === "]") {
      depth--;
    } else if (c === "," && depth === 1) {
      expectKey = true;
    }
  }
  return { lines };
}

/**
 * V8's JSON.parse messages quote the text around the problem, which may be part of a token: keep
 * only the position.
 */
function jsonSyntaxError(err: unknown): string {
  const message = errorMessage(err);
  if (message.startsWith("Unexpected end of JSON input")) return "unexpected end of JSON input";
  const position = /position (\d+)/.exec(message)?.[1];
  return position === undefined ? "invalid JSON" : `invalid JSON at position ${position}`;
}
