import { createPublicKey, type KeyObject, randomBytes, verify } from "node:crypto";
import {
  type FakeAnswer,
  type FakeListenOptions,
  type RunningFake,
  startFakeGoogleServer,
} from "./fake-google-server.js";

/** Options of {@link startFakeOAuthServer}. */
export interface FakeOAuthServerOptions extends FakeListenOptions {
  /** Service accounts it knows: email → public key (PEM or KeyObject). Grants of others are refused. */
  serviceAccounts?: Record<string, string | KeyObject>;
  /** `expires_in` of its tokens, in seconds. Default 3599, as Google's. */
  lifetimeSeconds?: number;
  /** The clock, for checking `iat`/`exp`. Default the real time. */
  now?: () => number;
  /** Answers instead of a grant while set (a fault: 500, not JSON, …); the grant is still recorded. */
  answerWith?: FakeAnswer;
}

/** A grant the fake accepted, decoded. */
export interface FakeOAuthGrant {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  accessToken: string;
}

/** A running fake Google OAuth token endpoint. */
export interface FakeOAuthServer extends RunningFake {
  /** Its token endpoint (`<url>/token`): the `token_uri` of keys that use it. */
  tokenUri: string;
  /** Accepted grants, in order. */
  grants: FakeOAuthGrant[];
  /** Whether `token` is one it issued and it has not expired. */
  issued(token: string): boolean;
  /** Adds a service account (its public key) it accepts grants from. */
  addServiceAccount(email: string, publicKey: string | KeyObject): void;
  /** Changes the fault answer (undefined: grant again). */
  setAnswer(answer: FakeAnswer | undefined): void;
}

/**
 * A stand-in for Google's OAuth2 token endpoint that really checks the JWT bearer grant
 * (RFC 7523) as Google does: a form POST to `/token` with `grant_type` jwt-bearer and an
 * `assertion` whose header is RS256, whose signature verifies with the public key of its `iss`,
 * whose `aud` is this endpoint, with a `scope`, `iat` not in the future (60 s of skew), `exp` in
 * the future and at most an hour after `iat`. A good grant gets `{access_token, expires_in,
 * token_type: "Bearer"}`, any other request a 400 `{"error": "invalid_grant", …}` (as Google).
 */
export async function startFakeOAuthServer(options: FakeOAuthServerOptions = {}): Promise<FakeOAuthServer> {
  const keys = new Map<string, KeyObject>();
  const add = (email: string, key: string | KeyObject) =>
    keys.set(email, typeof key !== "string" && key.type === "public" ? key : createPublicKey(key));
  for (const [email, key] of Object.entries(options.serviceAccounts ?? {})) add(email, key);
  const now = options.now ?? Date.now;
  const lifetime = options.lifetimeSeconds ?? 3599;
  const grants: FakeOAuthGrant[] = [];
  const tokens = new Map<string, number>();
  let fault = options.answerWith;
  const refuse = (description: string): FakeAnswer => ({
    status: 400,
    json: { error: "invalid_grant", error_description: description },
  });

  const running = await startFakeGoogleServer(options, (req, baseUrl) => {
    if (fault) return fault;
    if (req.method !== "POST" || new URL(req.url, baseUrl).pathname !== "/token")
      return { status: 404, body: "not found" };
    if (!String(req.headers["content-type"]).startsWith("application/x-www-form-urlencoded"))
      return refuse("not a form");
    const form = new URLSearchParams(req.body);
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer")
      return {
        status: 400,
        json: { error: "unsupported_grant_type", error_description: "Invalid grant_type" },
      };
    const parts = (form.get("assertion") ?? "").split(".");
    if (parts.length !== 3)
      return refuse("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe");
    const [h = "", c = "", s = ""] = parts;
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(h, "base64url").toString());
      claims = JSON.parse(Buffer.from(c, "base64url").toString());
    } catch {
      return refuse("Invalid JWT: not base64url JSON");
    }
    if (header.alg !== "RS256") return refuse("Invalid JWT: alg must be RS256");
    const key = keys.get(String(claims.iss));
    if (key === undefined) return refuse("Invalid grant: account not found");
    if (!verify("sha256", Buffer.from(`${h}.${c}`), key, Buffer.from(s, "base64url")))
      return refuse("Invalid JWT Signature.");
    if (claims.aud !== `${baseUrl}/token`) return refuse(`Invalid JWT: aud must be ${baseUrl}/token`);
    if (typeof claims.scope !== "string" || claims.scope === "") return refuse("Invalid JWT: no scope");
    const nowS = Math.floor(now() / 1000);
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (!(iat <= nowS + 60 && exp > nowS && exp - iat <= 3600))
      return refuse(
        "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
      );
    const accessToken = `ya29.fake-${randomBytes(12).toString("base64url")}`;
    tokens.set(accessToken, now() + lifetime * 1000);
    grants.push({ header, claims, accessToken });
    return { status: 200, json: { access_token: accessToken, expires_in: lifetime, token_type: "Bearer" } };
  });
  return {
    ...running,
    tokenUri: `${running.url}/token`,
    grants,
    issued: (token) => (tokens.get(token) ?? 0) > now(),
    addServiceAccount: add,
    setAnswer: (a) => {
      fault = a;
    },
  };
}
