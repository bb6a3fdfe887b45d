import { randomBytes } from "node:crypto";
import {
  type FakeAnswer,
  type FakeListenOptions,
  type RunningFake,
  startFakeGoogleServer,
} from "./fake-google-server.js";

/** Options of {@link startFakeIamCredentials}. */
export interface FakeIamCredentialsOptions extends FakeListenOptions {
  /** Whether a caller's base token is good (e.g. the fake OAuth server's `issued`). Default: any non-empty. */
  acceptBaseToken?: (token: string) => boolean;
  /** Accounts that may be acted as; default any. Others get 403 PERMISSION_DENIED. */
  accounts?: string[];
  /** Lifetime of its tokens, seconds. Default 3600, as Google's default. */
  lifetimeSeconds?: number;
  /** The clock. Default the real time. */
  now?: () => number;
}

/** A running fake IAM Credentials service. */
export interface FakeIamCredentials extends RunningFake {
  /** Tokens it gave, with the account and scopes asked, in order. */
  tokens: Array<{ account: string; scope: unknown; accessToken: string }>;
  /** Answers every request with this while set (a fault); undefined: normal again. */
  setAnswer(answer: FakeAnswer | undefined): void;
}

/**
 * A stand-in for IAM Credentials' `generateAccessToken`, checked as Google checks it: POST
 * `/v1/projects/-/serviceAccounts/<email>:generateAccessToken` with `authorization: Bearer <base
 * token>` (401 UNAUTHENTICATED when it is not accepted), a JSON body with a non-empty `scope`
 * list (400 INVALID_ARGUMENT), an account it may act as (403 PERMISSION_DENIED). Answers
 * `{accessToken, expireTime}` with Google's error shape otherwise.
 */
export async function startFakeIamCredentials(
  options: FakeIamCredentialsOptions = {},
): Promise<FakeIamCredentials> {
  const now = options.now ?? Date.now;
  const lifetime = options.lifetimeSeconds ?? 3600;
  const accept = options.acceptBaseToken ?? ((t: string) => t !== "");
  const tokens: FakeIamCredentials["tokens"] = [];
  let fault: FakeAnswer | undefined;
  const error = (code: number, status: string, message: string): FakeAnswer => ({
    status: code,
    json: { error: { code, message, status } },
  });
  const running = await startFakeGoogleServer(options, (req, baseUrl) => {
    if (fault) return fault;
    const url = new URL(req.url, baseUrl);
    const m = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(url.pathname);
    if (req.method !== "POST" || !m) return error(404, "NOT_FOUND", "Not found");
    const auth = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ""));
    if (!auth || !accept(auth[1] ?? ""))
      return error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
    const account = decodeURIComponent(m[1] ?? "");
    let body: { scope?: unknown };
    try {
      body = JSON.parse(req.body);
    } catch {
      return error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    }
    if (!Array.isArray(body.scope) || body.scope.length === 0)
      return error(400, "INVALID_ARGUMENT", "Scope is required.");
    if (options.accounts && !options.accounts.includes(account))
      return error(
        403,
        "PERMISSION_DENIED",
        "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
      );
    const accessToken = `ya29.iam-${randomBytes(12).toString("base64url")}`;
    tokens.push({ account, scope: body.scope, accessToken });
    return {
      status: 200,
      json: {
        accessToken,
        expireTime: new Date(now() + lifetime * 1000).toISOString().replace(/\.\d+Z$/, "Z"),
      },
    };
  });
  return {
    ...running,
    tokens,
    setAnswer: (a) => {
      fault = a;
    },
  };
}
