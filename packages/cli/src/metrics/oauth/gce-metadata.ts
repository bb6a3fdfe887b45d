import { escapeForLog } from "@luci-machine-tokend/core/internal";
import type { CachedToken } from "./cache-file.js";
import type { GoogleHttp } from "./google-http.js";
import { BAD_CREDENTIALS, INSUFFICIENT_ACCESS, TokenError } from "./token-error.js";

/** The GCE metadata server's documented address, used when GCE_METADATA_HOST is unset. */
export const GCE_METADATA_IP = "169.254.169.254";

/** The cloud-platform scope, which luci-go takes to cover every other scope on GCE. */
export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

/** The metadata server of `host` (GCE_METADATA_HOST, or the documented address) and its account. */
export interface GceMetadata {
  host: string;
  /** Set when GCE_METADATA_HOST names the host: then, as cloud.google.com/go's OnGCE, we are on GCE. */
  hostFromEnv: boolean;
  http: GoogleHttp;
  /** The service account: "default", as luci-go's. */
  account: string;
}

/**
 * One metadata value, as cloud.google.com/go/compute/metadata gets it: GET
 * `http://<host>/computeMetadata/v1/<suffix>` with `Metadata-Flavor: Google`, never proxied; a 404
 * is "not defined", another non-200 `compute: Received <code> \`<body>\``. `fromMetadataServer`:
 * the answer carried `Metadata-Flavor: Google` (what OnGCE looks for).
 */
async function metadataGet(
  gce: GceMetadata,
  suffix: string,
  signal: AbortSignal,
): Promise<
  ({ value: string } | { notDefined: string } | { error: string }) & { fromMetadataServer: boolean }
> {
  let answer: Awaited<ReturnType<GoogleHttp>>;
  try {
    answer = await gce.http(
      {
        method: "GET",
        url: `http://${gce.host}/computeMetadata/v1/${suffix}`,
        headers: { "metadata-flavor": "Google" },
        metadataServer: true,
      },
      signal,
    );
  } catch (err) {
    return { error: (err as Error).message, fromMetadataServer: false };
  }
  const fromMetadataServer = answer.headers["metadata-flavor"] === "Google";
  if (answer.status === 404)
    return { notDefined: `metadata: GCE metadata ${JSON.stringify(suffix)} not defined`, fromMetadataServer };
  if (answer.status !== 200)
    return {
      error: `compute: Received ${answer.status} \`${escapeForLog(answer.body.toString())}\``,
      fromMetadataServer,
    };
  return { value: answer.body.toString(), fromMetadataServer };
}

/**
 * What luci-go's GCE token provider checks when it is made (before the run): the account's email,
 * and that its scopes hold cloud-platform or every scope asked for. Not on GCE (the email cannot
 * be had, and neither GCE_METADATA_HOST nor a `Metadata-Flavor: Google` answer says this is GCE):
 * bad credentials, at once; the account or a scope missing: insufficient access; anything else is
 * transient (luci-go retries it for 5 minutes).
 */
export async function checkGceAccount(
  gce: GceMetadata,
  scopes: readonly string[],
  signal: AbortSignal,
  warn: (message: string) => void,
): Promise<{ email: string }> {
  const base = `instance/service-accounts/${gce.account}`;
  const email = await metadataGet(gce, `${base}/email`, signal);
  if (!("value" in email)) {
    // luci-go then asks cloud.google.com/go's OnGCE, which (without GCE_METADATA_HOST) takes the
    // machine for a GCE VM only if the metadata address answers with Metadata-Flavor: Google.
    if (!gce.hostFromEnv && !email.fromMetadataServer) throw new TokenError(BAD_CREDENTIALS, "fatal");
    if ("notDefined" in email) throw new TokenError(INSUFFICIENT_ACCESS, "fatal");
    throw new TokenError(email.error, "transient");
  }
  const got = await metadataGet(gce, `${base}/scopes`, signal);
  if ("error" in got) throw new TokenError(got.error, "transient");
  if ("notDefined" in got) throw new TokenError(got.notDefined, "transient");
  const available = got.value
    .trim()
    .split("\n")
    .map((s) => s.trim());
  if (!available.includes(CLOUD_PLATFORM_SCOPE)) {
    for (const scope of scopes) {
      if (!available.includes(scope)) {
        warn(
          `GCE service account ${JSON.stringify(gce.account)} doesn't have required scope ${JSON.stringify(scope)} (all scopes: ${escapeForLog(JSON.stringify(available))})`,
        );
        throw new TokenError(INSUFFICIENT_ACCESS, "fatal");
      }
    }
  }
  return { email: email.value.trim() };
}

/**
 * The account's access token from the metadata server, as luci-go's GCE provider asks it (the
 * VM's scopes, none requested). Every failure is transient, with luci-go's texts.
 */
export async function gceAccessToken(
  gce: GceMetadata,
  email: string,
  signal: AbortSignal,
  now: () => number,
): Promise<CachedToken> {
  const got = await metadataGet(gce, `instance/service-accounts/${gce.account}/token`, signal);
  if (!("value" in got))
    throw new TokenError(
      `auth/gce: metadata server call failed: ${"error" in got ? got.error : got.notDefined}`,
      "transient",
    );
  let answer: unknown;
  try {
    answer = JSON.parse(got.value);
  } catch {
    throw new TokenError("auth/gce: invalid token JSON from metadata: not JSON", "transient");
  }
  const fields = (typeof answer === "object" && answer !== null ? answer : {}) as Record<string, unknown>;
  const accessToken = typeof fields.access_token === "string" ? fields.access_token : "";
  const expiresIn = Number.isSafeInteger(fields.expires_in) ? (fields.expires_in as number) : 0;
  if (accessToken === "" || expiresIn === 0)
    throw new TokenError("auth/gce: incomplete token received from metadata", "transient");
  return {
    accessToken,
    tokenType: typeof fields.token_type === "string" ? fields.token_type : "",
    expiryMs: now() + expiresIn * 1000,
    idToken: "-",
    email,
  };
}
