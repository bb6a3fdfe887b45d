import { type KeyObject, sign } from "node:crypto";
import { goJsonStringify } from "@luci-machine-tokend/core/internal";

/** What the JWT bearer grant asserts (x/oauth2/jws's ClaimSet as golang.org/x/oauth2/jwt fills it). */
export interface JwtClaims {
  iss: string;
  /** Space-separated; left out when empty. */
  scope: string;
  aud: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
}

/**
 * The claims Go's JWT source sends at `nowMs`: `iat` 10 s in the past (clock skew), `exp` an hour
 * after it, `aud` the token endpoint unless the key file names an audience.
 */
export function jwtClaims(options: {
  email: string;
  scopes: readonly string[];
  aud: string;
  nowMs: number;
}): JwtClaims {
  const iat = Math.floor((options.nowMs - 10_000) / 1000);
  return { iss: options.email, scope: options.scopes.join(" "), aud: options.aud, iat, exp: iat + 3600 };
}

/**
 * A signed JWT (RS256) as x/oauth2/jws encodes it: header `{"alg":"RS256","typ":"JWT","kid":…}`
 * (kid only when known), claims in Go's field order (`iss`, `scope`, `aud`, `exp`, `iat`), Go's
 * JSON escaping, unpadded base64url.
 */
export function signJwtAssertion(claims: JwtClaims, key: KeyObject, keyId: string): string {
  const header = { alg: "RS256", typ: "JWT", ...(keyId !== "" && { kid: keyId }) };
  const body = {
    iss: claims.iss,
    ...(claims.scope !== "" && { scope: claims.scope }),
    aud: claims.aud,
    exp: claims.exp,
    iat: claims.iat,
  };
  const signingInput = `${b64url(goJsonStringify(header))}.${b64url(goJsonStringify(body))}`;
  const signature = sign("sha256", Buffer.from(signingInput), key);
  return `${signingInput}.${signature.toString("base64url")}`;
}

function b64url(text: string): string {
  return Buffer.from(text).toString("base64url");
}
