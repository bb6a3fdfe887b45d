import type { KeyObject } from "node:crypto";
import { escapeForLog } from "@luci-machine-tokend/core/internal";
import type { CachedToken } from "./cache-file.js";
import { goJsonField } from "./go-json-field.js";
import { type GoogleHttp, RefusedRequestError } from "./google-http.js";
import { jwtClaims, signJwtAssertion } from "./jwt-assertion.js";
import type { ServiceAccountKey } from "./service-account-key.js";
import { TokenError } from "./token-error.js";

/**
 * An access token from the key's `token_uri` by the OAuth2 JWT bearer grant, as
 * golang.org/x/oauth2/jwt gets it: a form POST of `assertion=<JWT>&grant_type=…jwt-bearer`; a 2xx
 * answer is JSON (whatever its Content-Type) with `access_token`, `token_type` and an integer
 * `expires_in` (absent or not positive: a token without expiry, as Go). Errors have x/oauth2's
 * texts on one line: a 400 or 401 is `bad-credentials`, anything else `transient`.
 */
export async function jwtBearerGrant(options: {
  key: ServiceAccountKey;
  keyId: string;
  rsaKey: KeyObject;
  scopes: readonly string[];
  http: GoogleHttp;
  signal: AbortSignal;
  now: () => number;
}): Promise<CachedToken> {
  const { key, now } = options;
  const claims = jwtClaims({
    email: key.email,
    scopes: options.scopes,
    aud: key.audience || key.tokenUri,
    nowMs: now(),
  });
  const assertion = signJwtAssertion(claims, options.rsaKey, key.privateKeyId);
  // url.Values.Encode: keys sorted.
  const form = new URLSearchParams({
    assertion,
    grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
  }).toString();
  let answer: Awaited<ReturnType<GoogleHttp>>;
  try {
    answer = await options.http(
      {
        method: "POST",
        url: key.tokenUri,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form,
      },
      options.signal,
    );
  } catch (err) {
    const kind = err instanceof RefusedRequestError ? "fatal" : "transient";
    throw new TokenError(`oauth2: cannot fetch token: ${(err as Error).message}`, kind);
  }
  if (answer.status < 200 || answer.status > 299) {
    const message = `oauth2: cannot fetch token: ${answer.statusLine} Response: ${escapeForLog(answer.body.toString())}`;
    throw new TokenError(
      message,
      answer.status === 400 || answer.status === 401 ? "bad-credentials" : "transient",
    );
  }
  const parsed = parseTokenAnswer(answer.body.toString(), answer.truncated);
  if ("error" in parsed) throw new TokenError(`oauth2: cannot fetch token: ${parsed.error}`, "transient");
  const { accessToken, tokenType, expiresIn } = parsed;
  return {
    accessToken,
    tokenType,
    ...(expiresIn > 0 && { expiryMs: now() + expiresIn * 1000 }),
    idToken: "-",
    email: key.email || "-",
  };
}

/** The fields of a token answer, typed as Go's oauth2.Token decodes them. */
function parseTokenAnswer(
  text: string,
  truncated: boolean,
): { accessToken: string; tokenType: string; expiresIn: number } | { error: string } {
  let value: unknown;
  try {
    if (truncated) throw new Error();
    value = JSON.parse(text);
  } catch {
    return { error: truncated ? "the answer is larger than 1 MiB" : "the answer is not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return value === null
      ? { accessToken: "", tokenType: "", expiresIn: 0 }
      : { error: "the answer is not a JSON object" };
  const answer = value as Record<string, unknown>;
  // Go's decoder matches the names case-insensitively.
  const accessToken = goJsonField(answer, "access_token") ?? "";
  const tokenType = goJsonField(answer, "token_type") ?? "";
  const expiresIn = goJsonField(answer, "expires_in") ?? 0;
  if (typeof accessToken !== "string") return { error: "access_token is not a string" };
  if (typeof tokenType !== "string") return { error: "token_type is not a string" };
  if (typeof expiresIn !== "number" || !Number.isSafeInteger(expiresIn))
    return { error: "expires_in is not an integer" };
  return { accessToken, tokenType, expiresIn };
}
