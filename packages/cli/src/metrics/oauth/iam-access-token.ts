import { escapeForLog } from "@luci-machine-tokend/core/internal";
import type { CachedToken } from "./cache-file.js";
import { parseGoTime } from "./go-time.js";
import { type GoogleHttp, RefusedRequestError } from "./google-http.js";
import { TokenError } from "./token-error.js";

/** Google's IAM Credentials service, luci-go's fixed endpoint. */
export const IAM_CREDENTIALS_URL = "https://iamcredentials.googleapis.com";

/**
 * A token of `actAs` from IAM Credentials' generateAccessToken, as luci-go's CredentialsClient
 * asks for it: POST `<endpoint>/v1/projects/-/serviceAccounts/<email, query-escaped>:generateAccessToken?alt=json`
 * with `{"scope":[…]}` (no lifetime: the service's default hour) and the base token as
 * `authorization`. A 4xx answer is fatal, anything else transient (luci-go's iam.go); errors have
 * google-api-go's texts (`googleapi: Error 403: <message>`), on one line.
 */
export async function iamAccessToken(options: {
  endpoint: string;
  actAs: string;
  scopes: readonly string[];
  base: CachedToken;
  http: GoogleHttp;
  signal: AbortSignal;
}): Promise<CachedToken> {
  const url = `${options.endpoint}/v1/projects/-/serviceAccounts/${goQueryEscape(options.actAs)}:generateAccessToken?alt=json`;
  let answer: Awaited<ReturnType<GoogleHttp>>;
  try {
    answer = await options.http(
      {
        method: "POST",
        url,
        headers: {
          "content-type": "application/json",
          authorization: `${tokenTypeHeader(options.base.tokenType)} ${options.base.accessToken}`,
        },
        body: JSON.stringify({ scope: options.scopes }),
      },
      options.signal,
    );
  } catch (err) {
    throw new TokenError((err as Error).message, err instanceof RefusedRequestError ? "fatal" : "transient");
  }
  if (answer.status < 200 || answer.status > 299) {
    throw new TokenError(
      googleApiError(answer.status, answer.body.toString()),
      answer.status < 500 ? "fatal" : "transient",
    );
  }
  let value: unknown;
  try {
    if (answer.truncated) throw new Error();
    value = JSON.parse(answer.body.toString());
  } catch {
    throw new TokenError("the generateAccessToken answer is not JSON", "transient");
  }
  const fields = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const accessToken = typeof fields.accessToken === "string" ? fields.accessToken : "";
  const expireTime = typeof fields.expireTime === "string" ? fields.expireTime : "";
  const expiry = parseGoTime(expireTime);
  if ("error" in expiry)
    throw new TokenError(`unable to parse 'expireTime': ${escapeForLog(expireTime)}`, "transient");
  return {
    accessToken,
    tokenType: "Bearer",
    ...(!expiry.zero && { expiryMs: expiry.ms }),
    idToken: "-",
    email: options.actAs,
  };
}

/** oauth2.Token.Type(): the scheme of the `authorization` header for a token type. */
export function tokenTypeHeader(tokenType: string): string {
  const lower = tokenType.toLowerCase();
  if (lower === "bearer" || tokenType === "") return "Bearer";
  if (lower === "mac") return "MAC";
  if (lower === "basic") return "Basic";
  return tokenType;
}

/** Go's url.QueryEscape: `@` is `%40`, a space is `+`. */
function goQueryEscape(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

/** google-api-go's googleapi.Error text for a failed call. */
function googleApiError(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as {
      error?: { message?: unknown; errors?: Array<{ reason?: unknown; message?: unknown }> };
    };
    const message = parsed.error?.message;
    if (typeof message === "string" && message !== "") {
      const errors = parsed.error?.errors ?? [];
      const reason =
        errors.length === 1 && errors[0]?.message === message ? `, ${String(errors[0]?.reason)}` : "";
      return `googleapi: Error ${status}: ${escapeForLog(message)}${escapeForLog(reason)}`;
    }
  } catch {
    // not JSON: the body as it is
  }
  return `googleapi: got HTTP response code ${status} with body: ${escapeForLog(body)}`;
}
