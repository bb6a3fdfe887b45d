import type { TokenFile } from "../gen/tokenserver/token_file_pb.js";
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
 * Parses token file bytes strictly, exactly as Go's protojson (see tokenFileFromJson): unknown or
 * duplicate keys and wrong value types are errors; int64 may be a string or a number. A
 * `tokend_state` whose bytes are not state JSON leaves the token usable without a state.
 */
export function parseTokenFile(bytes: Uint8Array): ParsedTokenFile {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { error: "invalid UTF-8" };
  }
  const parsed = tokenFileFromJson(text);
  if (parsed.error !== undefined) return { error: parsed.error };
  const token = parsed.token;
  const decoded = decodeTokendState(token.tokendState);
  return decoded.state ? { token, state: decoded.state } : { token, stateError: decoded.error };
}
