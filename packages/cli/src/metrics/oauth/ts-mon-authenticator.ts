/**
 * The OAuth2 access token ts-mon's https push sends to ProdX, as luci-go's auth.Authenticator
 * gives it to Go tokend (common/tsmon/iface.go newAuthenticator: SilentLogin, scope prodxmon, the
 * key from `credentials`, `act_as`, the disk cache of chromeinfra's SecretsDir).
 *
 * Built on node:crypto (RS256 JWT) and node:http(s), not google-auth-library. Measured on this
 * machine (Node 20, load ~10, 8 runs): `require("google-auth-library")` 10.9.1 took 228 ms at
 * best (326 ms median) and +12.2 MiB RSS, against 41 ms (52 ms) and +3.6 MiB for node:https and
 * node:crypto alone; and its JWT client ignores the key's `token_uri` (it always posts to
 * oauth2.googleapis.com with that `aud`), takes no trust roots or proxy of ours (gaxios), and
 * has no luci-go cache. Each of these alone rules it out; the grant itself is 60 lines here.
 */
import type { Logger } from "@luci-machine-tokend/core";
import { formatGoDuration } from "@luci-machine-tokend/core/internal";
import type { AuthorizationFn } from "@luci-machine-tokend/core/ts-mon";
import type { CachedToken, CacheKey } from "./cache-file.js";
import { createDiskTokenCache, secretsDir, type TokenCache } from "./disk-token-cache.js";
import { CLOUD_PLATFORM_SCOPE, GCE_METADATA_IP } from "./gce-metadata.js";
import { createGoogleHttp, type GoogleHttp } from "./google-http.js";
import { IAM_CREDENTIALS_URL, tokenTypeHeader } from "./iam-access-token.js";
import { MINT_BACKOFF, retryTransient } from "./retry-transient.js";
import { LOGIN_REQUIRED, TokenError } from "./token-error.js";
import { expiresWithin, expiresWithinRandomized, sameToken } from "./token-expiry.js";
import {
  gceProvider,
  iamProvider,
  type ProviderContext,
  serviceAccountProvider,
  type TokenProvider,
} from "./token-providers.js";

/** ProdX's OAuth scope (ts-mon's monitor.ProdXMonScope). */
export const PRODXMON_SCOPE = "https://www.googleapis.com/auth/prodxmon";

/** The base token's scopes when acting through IAM (luci-go's CloudScopeSet, sorted). */
const IAM_BASE_SCOPES = [CLOUD_PLATFORM_SCOPE, "https://www.googleapis.com/auth/userinfo.email"];

/** ts-mon's credentials settings, the flags over the config file. */
export interface TsMonAuthConfig {
  /** `-ts-mon-credentials` / `credentials`: a service-account JSON key file, `:gce`, or "". */
  credentials: string;
  /** `-ts-mon-act-as` / `act_as`: a service account to act as through IAM, or "". */
  actAs: string;
}

/** What the authenticator touches; all optional, real by default. */
export interface TsMonAuthDeps {
  /** HOME (the cache's), GCE_METADATA_HOST, proxies, trust roots. Default `process.env`. */
  env?: Record<string, string | undefined>;
  logger?: Logger;
  /** The clock, ms since the epoch. */
  now?: () => number;
  /** [0, 1), for the randomized early refresh. Default Math.random. */
  random?: () => number;
  /** HTTP for the OAuth, IAM and metadata calls. Default {@link createGoogleHttp}. */
  http?: GoogleHttp;
  /** The IAM Credentials endpoint (tests point it at a fake). Default Google's, as luci-go's fixed one. */
  iamEndpoint?: string;
  /** The token cache. Default the disk cache in `$HOME/.config/chrome_infra/auth`; none without HOME. */
  cache?: TokenCache;
}

/** ts-mon's token source: set up before the run, asked at each push. */
export interface TsMonAuthenticator {
  /**
   * What Go does in `PerRPCCredentials()` before the run: picks the method, makes the GCE
   * provider (metadata email and scopes), reads cached tokens. Bounded by `signal`.
   *
   * @throws Error with Go's text (`interactive login is required`, `can't get access token for
   *   the given account and scopes`, …); ts-mon is then off for the run.
   */
  init(signal: AbortSignal): Promise<void>;
  /**
   * The access token for a push: the cached one while it has more than 10 s (plus up to 5 s at
   * random) to live, else a new one (retried as Go does, but within `signal`), cached for the next
   * runs. @throws Error `failed to refresh auth token: …` with Go's texts.
   */
  accessToken(signal: AbortSignal): Promise<string>;
  /** The `authorization` header value for a push: the token's type and the token (`Bearer …`). */
  authorization(signal: AbortSignal): Promise<string>;
}

/** A token and where it lives. */
interface Slot {
  provider: TokenProvider;
  cache: TokenCache;
  token?: CachedToken;
}

/** How long a token must still live to be used (luci-go's MinTokenLifetime). */
const MIN_LIFETIME_MS = 10_000;
/** A refresh must give a token living this long (luci-go adds 5 s to the lifetime asked). */
const REFRESH_LIFETIME_MS = MIN_LIFETIME_MS + 5_000;

/**
 * Makes ts-mon's authenticator (see {@link TsMonAuthenticator}); nothing happens until `init`.
 */
export function createTsMonAuthenticator(
  config: TsMonAuthConfig,
  deps: TsMonAuthDeps = {},
): TsMonAuthenticator {
  const env = deps.env ?? process.env;
  const logger = deps.logger ?? { log() {} };
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const http = deps.http ?? createGoogleHttp({ env, logger });
  const ctx: ProviderContext = { http, logger, now };
  let base: Slot | undefined;
  let auth: Slot | undefined;
  let initError: Error | undefined;

  const memoryCache = (): TokenCache => {
    const tokens = new Map<string, CachedToken>();
    const id = (k: CacheKey) => JSON.stringify(k);
    return {
      get: async (k) => tokens.get(id(k)),
      put: async (k, t) => void tokens.set(id(k), t),
      delete: async (k) => void tokens.delete(id(k)),
    };
  };

  async function setUp(signal: AbortSignal): Promise<void> {
    if (config.credentials === "") throw new Error(LOGIN_REQUIRED);
    const baseScopes = config.actAs !== "" ? IAM_BASE_SCOPES : [PRODXMON_SCOPE];
    const baseProvider =
      config.credentials === ":gce"
        ? await gceProvider(
            {
              host: env.GCE_METADATA_HOST || GCE_METADATA_IP,
              hostFromEnv: Boolean(env.GCE_METADATA_HOST),
              http,
              account: "default",
            },
            baseScopes,
            ctx,
            signal,
          ).catch((err: unknown) => {
            throw err instanceof TokenError ? new Error(err.message) : err;
          })
        : serviceAccountProvider(config.credentials, baseScopes, ctx);
    let disk = deps.cache;
    if (disk === undefined) {
      if (env.HOME) disk = createDiskTokenCache({ dir: secretsDir(env.HOME), logger, now });
      else logger.log("warning", "Disabling auth disk token cache. Not configured.");
    }
    const cacheFor = (p: TokenProvider) => (p.memoryOnly || disk === undefined ? memoryCache() : disk);
    base = { provider: baseProvider, cache: cacheFor(baseProvider) };
    if (config.actAs !== "") {
      const provider = iamProvider(
        deps.iamEndpoint ?? IAM_CREDENTIALS_URL,
        config.actAs,
        [PRODXMON_SCOPE],
        ctx,
      );
      auth = { provider, cache: cacheFor(provider) };
      await readCached(base);
      await readCached(auth);
    } else {
      auth = base;
      await readCached(base);
    }
  }

  async function readCached(slot: Slot): Promise<void> {
    try {
      slot.token = await slot.cache.get(await slot.provider.cacheKey());
    } catch (err) {
      logger.log("warning", `Failed to read auth token from cache: ${(err as Error).message}`);
    }
  }

  /** luci-go's compareAndRefresh: a token another process cached meanwhile, or a new one. */
  async function refresh(slot: Slot, lifetimeMs: number, signal: AbortSignal): Promise<CachedToken> {
    const prev = slot.token;
    const key = await slot.provider.cacheKey();
    const cached = await slot.cache.get(key).catch(() => undefined);
    if (cached !== undefined) {
      slot.token = cached;
      if (!sameToken(cached, prev) && !expiresWithin(cached, lifetimeMs, now())) return cached;
    }
    let minted: CachedToken;
    try {
      const baseToken = slot === base ? undefined : await baseTokenFor(signal);
      const renewing = slot.token !== undefined;
      logger.log("debug", renewing ? "Refreshing the token" : "Minting a new token");
      minted = await retryTransient(() => slot.provider.mint(signal, baseToken), {
        backoff: MINT_BACKOFF,
        signal,
        now,
        onRetry: (err, ms) =>
          logger.log("warning", `token-mint failed transiently - ${err.message}; retrying in ${ms} ms`),
      }).catch((err: unknown) => {
        logger.log(
          "warning",
          `${renewing ? "Failed to refresh the token" : "Failed to mint a token"}: ${(err as Error).message}`,
        );
        throw err;
      });
    } catch (err) {
      slot.token = undefined;
      if (err instanceof TokenError && err.kind === "bad-credentials") {
        // A broken token is not kept in the cache.
        await slot.cache
          .delete(key)
          .catch((e: unknown) =>
            logger.log("warning", `Failed to remove broken token from the cache: ${(e as Error).message}`),
          );
      }
      throw err;
    }
    slot.token = minted;
    await slot.cache
      .put(key, minted)
      .catch((err: unknown) =>
        logger.log("warning", `Failed to write refreshed token to the cache: ${(err as Error).message}`),
      );
    return minted;
  }

  /** The acting account's token, fresh enough for one IAM call (luci-go's getBaseTokenLocked). */
  async function baseTokenFor(signal: AbortSignal): Promise<CachedToken> {
    if (base === undefined) throw new Error("not initialized");
    if (base.token !== undefined && !expiresWithinRandomized(base.token, MIN_LIFETIME_MS, now(), random))
      return base.token;
    return refresh(base, MIN_LIFETIME_MS, signal);
  }

  async function token(signal: AbortSignal): Promise<CachedToken> {
    if (initError) throw initError;
    if (auth === undefined) throw new Error("the ts-mon authenticator was not initialized");
    // As luci-go's currentToken: no token in memory, so the cache is read again (another
    // process may have put one there since the start-up).
    if (auth.token === undefined) await readCached(auth);
    let tok = auth.token;
    if (tok === undefined || expiresWithinRandomized(tok, MIN_LIFETIME_MS, now(), random)) {
      try {
        tok = await refresh(auth, REFRESH_LIFETIME_MS, signal);
      } catch (err) {
        throw new Error(`failed to refresh auth token: ${(err as Error).message}`, { cause: err });
      }
      if (expiresWithin(tok, 0, now()))
        throw new Error("failed to refresh auth token: got an expired token after the refresh");
      if (expiresWithin(tok, MIN_LIFETIME_MS, now()) && tok.expiryMs !== undefined) {
        logger.log(
          "warning",
          `The token provider didn't refresh the token (it still expires in ${formatGoDuration(tok.expiryMs - now())}), trying to use it anyway`,
        );
      }
    }
    return tok;
  }

  return {
    async init(signal) {
      try {
        await setUp(signal);
      } catch (err) {
        initError = err as Error;
        throw err;
      }
    },
    async accessToken(signal) {
      return (await token(signal)).accessToken;
    },
    async authorization(signal) {
      const tok = await token(signal);
      return `${tokenTypeHeader(tok.tokenType)} ${tok.accessToken}`;
    },
  };
}

/** How long ts-mon's start-up check may take (Go's is unbounded: 5 minutes for a failing metadata server). */
export const TS_MON_AUTH_INIT_TIMEOUT_MS = 10_000;

/**
 * ts-mon set-up's default token source (initTsMon's `auth`): makes and starts an authenticator
 * for the flags' credentials before the run (within {@link TS_MON_AUTH_INIT_TIMEOUT_MS}), throwing
 * Go's start-up error, and gives the push its `authorization` header.
 */
export function tsMonAuth(deps: TsMonAuthDeps = {}): (config: TsMonAuthConfig) => Promise<AuthorizationFn> {
  return async (config) => {
    const auth = createTsMonAuthenticator(config, deps);
    await auth.init(AbortSignal.timeout(TS_MON_AUTH_INIT_TIMEOUT_MS));
    return (signal) => auth.authorization(signal);
  };
}
