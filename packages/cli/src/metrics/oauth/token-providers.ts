import type { Logger } from "@luci-machine-tokend/core";
import type { CachedToken, CacheKey } from "./cache-file.js";
import { checkGceAccount, type GceMetadata, gceAccessToken } from "./gce-metadata.js";
import type { GoogleHttp } from "./google-http.js";
import { iamAccessToken } from "./iam-access-token.js";
import { jwtBearerGrant } from "./jwt-bearer-grant.js";
import { GCE_INIT_BACKOFF, retryTransient } from "./retry-transient.js";
import { cacheKeyId, readServiceAccountKey, rsaPrivateKey } from "./service-account-key.js";
import { BAD_CREDENTIALS, TokenError } from "./token-error.js";

/** One way to get a token (luci-go's TokenProvider): where it is cached, and how it is made. */
export interface TokenProvider {
  /** The cache slot. @throws TokenError (bad credentials) when the key cannot be read. */
  cacheKey(): Promise<CacheKey>;
  /** Kept in memory only, never in the disk cache (luci-go's GCE tokens). */
  memoryOnly: boolean;
  /** A new token; `base` is the acting account's token for IAM. @throws TokenError */
  mint(signal: AbortSignal, base?: CachedToken): Promise<CachedToken>;
}

/** What every provider uses. */
export interface ProviderContext {
  http: GoogleHttp;
  logger: Logger;
  now: () => number;
}

/**
 * luci-go's service-account provider: the key file read at every use (a replaced key is picked
 * up), the cache key `service_account/<client_email>/<key id>`. A key file that cannot be read or
 * parsed is logged (`Failed to load private key JSON - …`, error) and is bad credentials; so is a
 * private key that does not parse and an OAuth 400/401 (`Invalid or revoked service account key
 * - …`, warning); other failures are transient (`Error when creating token - …`, warning).
 */
export function serviceAccountProvider(
  path: string,
  scopes: readonly string[],
  ctx: ProviderContext,
): TokenProvider {
  const load = async () => {
    const read = await readServiceAccountKey(path);
    if ("error" in read) {
      ctx.logger.log("error", `Failed to load private key JSON - ${read.error}`);
      throw new TokenError(BAD_CREDENTIALS, "bad-credentials");
    }
    return read.key;
  };
  return {
    memoryOnly: false,
    async cacheKey() {
      const key = await load();
      return { key: `service_account/${key.email}/${cacheKeyId(key)}`, scopes };
    },
    async mint(signal) {
      const key = await load();
      try {
        return await jwtBearerGrant({
          key,
          keyId: cacheKeyId(key),
          rsaKey: rsaKeyOf(key),
          scopes,
          http: ctx.http,
          signal,
          now: ctx.now,
        });
      } catch (err) {
        if (!(err instanceof TokenError)) throw err;
        if (err.kind !== "bad-credentials") {
          ctx.logger.log("warning", `Error when creating token - ${err.message}`);
          throw err;
        }
        ctx.logger.log("warning", `Invalid or revoked service account key - ${err.message}`);
        throw new TokenError(BAD_CREDENTIALS, "bad-credentials");
      }
    },
  };
}

function rsaKeyOf(key: Parameters<typeof rsaPrivateKey>[0]) {
  try {
    return rsaPrivateKey(key);
  } catch (err) {
    throw new TokenError((err as Error).message, "bad-credentials");
  }
}

/**
 * luci-go's GCE provider: made only after the metadata server gave the account's email and its
 * scopes allow the token (retried as luci-go does for 5 minutes, but never past `signal`); its
 * tokens are the VM's, cached in memory only, under `gce/<account>`.
 */
export async function gceProvider(
  gce: GceMetadata,
  scopes: readonly string[],
  ctx: ProviderContext,
  signal: AbortSignal,
): Promise<TokenProvider> {
  const { email } = await retryTransient(
    () => checkGceAccount(gce, scopes, signal, (m) => ctx.logger.log("warning", m)),
    {
      backoff: GCE_INIT_BACKOFF,
      signal,
      now: ctx.now,
      onRetry: (err, ms) =>
        ctx.logger.log(
          "warning",
          `initializing GCE token provider failed transiently - ${err.message}; retrying in ${ms} ms`,
        ),
    },
  );
  return {
    memoryOnly: true,
    async cacheKey() {
      return { key: `gce/${gce.account}`, scopes };
    },
    mint: (mintSignal) => gceAccessToken(gce, email, mintSignal, ctx.now),
  };
}

/** luci-go's IAM provider (`act_as`): tokens of `actAs` under `iam/<actAs>`, made from a base token. */
export function iamProvider(
  endpoint: string,
  actAs: string,
  scopes: readonly string[],
  ctx: ProviderContext,
): TokenProvider {
  return {
    memoryOnly: false,
    async cacheKey() {
      return { key: `iam/${actAs}`, scopes };
    },
    mint(signal, base) {
      if (base === undefined) throw new Error("iamProvider.mint needs a base token");
      return iamAccessToken({ endpoint, actAs, scopes, base, http: ctx.http, signal });
    },
  };
}
