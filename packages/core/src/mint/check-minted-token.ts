import { MAX_TOKEN_FILE_BYTES } from "../token-file/read-token-file.js";

/**
 * Longest machine token accepted from the server: the token file holding it must stay within what
 * the reader accepts ({@link MAX_TOKEN_FILE_BYTES}); 1 KiB is kept for the other fields, whose
 * largest possible JSON is under 400 bytes. Real tokens are about 500 characters.
 */
export const MAX_MACHINE_TOKEN_CHARS = MAX_TOKEN_FILE_BYTES - 1024;

/** Standard or URL-safe base64, padded or not: what a LUCI machine token is made of. */
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
const MIN_SECONDS = -62135596800n;
const MAX_SECONDS = 253402300799n;

/**
 * Why a minted token must not be written, or undefined when it may. Go writes whatever it gets;
 * here a token that is empty, not base64 text or too long for the token file reader, or an expiry
 * that is not a valid timestamp (which no date can hold), is a bad server answer. Pure.
 */
export function checkMintedToken(
  token: string,
  expiry: { seconds: bigint; nanos: number },
): string | undefined {
  const problem = machineTokenProblem(token);
  if (problem !== undefined) return problem;
  if (
    expiry.seconds < MIN_SECONDS ||
    expiry.seconds > MAX_SECONDS ||
    expiry.nanos < 0 ||
    expiry.nanos > 999_999_999
  ) {
    return `the expiry (seconds ${expiry.seconds}, nanos ${expiry.nanos}) is not a valid timestamp`;
  }
  return undefined;
}

/**
 * Why `token` cannot be a LUCI machine token (empty, longer than a token file holds, not base64
 * text), or undefined when it may be. Never quotes the token. Pure.
 */
export function machineTokenProblem(token: string): string | undefined {
  if (token === "") return "the machine token is empty";
  if (token.length > MAX_MACHINE_TOKEN_CHARS) {
    return `the machine token has ${token.length} characters, more than the ${MAX_MACHINE_TOKEN_CHARS} a token file may hold`;
  }
  if (!BASE64.test(token)) return "the machine token is not base64 text";
  return undefined;
}
