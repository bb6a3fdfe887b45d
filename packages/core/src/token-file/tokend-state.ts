import { errorMessage } from "../common/fs-errors.js";
import { oneLine } from "../common/one-line.js";
/** The tokend version written into `tokend_state` and the status file; Go tokend's current one. */
export const TOKEND_VERSION = "1.3";

/** What tokend remembers about the inputs that minted a token (`tokend_state` in the token file). */
export interface TokendState {
  /** {@link calcDigest} of the inputs that minted the token (40 lowercase hex chars). */
  inputsDigest: string;
  /** Version of the tokend that minted it; stored, never compared. */
  version: string;
}

const encoder = new TextEncoder();

/** Encodes the state as Go does: compact JSON with exactly these keys in this order. */
export function encodeTokendState(state: TokendState): Uint8Array {
  return encoder.encode(JSON.stringify({ InputsDigest: state.inputsDigest, Version: state.version }));
}

/** A decoded state, or why the bytes are not one (Go's words are "Failed to unmarshal tokend_state"). */
export type DecodedTokendState =
  | { state: TokendState; error?: undefined }
  | { state?: undefined; error: string };

/**
 * Decodes `tokend_state` like Go's encoding/json into a struct: keys match case-insensitively,
 * unknown keys are ignored, a wrong type or bad JSON is an error (empty bytes included).
 */
export function decodeTokendState(bytes: Uint8Array): DecodedTokendState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    // V8's message quotes the text: one escaped line, for loggers that print it as given.
    return { error: bytes.length === 0 ? "unexpected end of JSON input" : oneLine(errorMessage(e), 200) };
  }
  if (parsed === null) return { state: { inputsDigest: "", version: "" } };
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    return { error: "cannot unmarshal non-object into tokend state" };
  }
  const state: TokendState = { inputsDigest: "", version: "" };
  for (const [key, value] of Object.entries(parsed)) {
    const field =
      key.toLowerCase() === "inputsdigest"
        ? "inputsDigest"
        : key.toLowerCase() === "version"
          ? "version"
          : undefined;
    if (field === undefined || value === null) continue;
    if (typeof value !== "string")
      return { error: `cannot unmarshal ${typeof value} into field ${key} of type string` };
    state[field] = value;
  }
  return { state };
}
