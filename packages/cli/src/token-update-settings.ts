import type { Logger } from "@luci-machine-tokend/core";
import { fsErrorReason, type ResolvedTokenUpdate, readCapped } from "@luci-machine-tokend/core/internal";
import type { TokendDeps } from "./run-deps.js";
import type { ResolvedTokendOptions } from "./tokend-options.js";

/**
 * The flags as core's run takes them: files and values, no flags. `-exec` runs after a new token
 * was saved, still under the run lock; `-status-file` and `-prometheus-textfile` are written
 * atomically too, so the run clears their leftovers.
 */
export function tokenUpdateSettings(
  options: ResolvedTokendOptions,
  deps: TokendDeps & { logger: Logger },
): ResolvedTokenUpdate {
  const { logger, createClient } = deps;
  const passphraseFile = options.pkeyPassphraseFile;
  const exec = options.exec;
  return {
    backend: options.backend,
    identity: { cert: { path: options.certPem }, key: { path: options.pkeyPem } },
    keyPassphrase: passphraseFile ? () => readPassphrase(passphraseFile) : undefined,
    tokenFile: options.tokenFile,
    tokenFileCopies: options.tokenFileCopies,
    tokenFileMode: options.tokenFileMode,
    leftoversOf: [options.statusFile, options.prometheusTextfile].filter((p) => p !== undefined),
    protocol: options.protocol,
    caBundle: options.caBundle,
    client: createClient
      ? () =>
          createClient(options.backend, { protocol: options.protocol, caBundle: options.caBundle, logger })
      : undefined,
    timeoutMs: options.timeoutMs,
    forceRefresh: options.forceRefresh,
    afterUpdate: exec
      ? async () => {
          // Loaded only with -exec: it imports node:child_process.
          const { runExecHook } = await import("./exec-hook.js");
          await runExecHook(exec, options.tokenFile, options.execTimeoutMs, logger, { signal: deps.signal });
        }
      : undefined,
    now: deps.now,
    monotonic: deps.monotonic,
    sleep: deps.sleep,
    random: deps.random,
    jitter: deps.jitter,
    logger,
    signal: deps.signal,
    atomicFs: deps.atomicFs,
    beforeRefresh: deps.beforeRefresh,
  };
}

/**
 * The passphrase in `path` (one trailing newline dropped), read as every file a run reads; the
 * error names the flag. Here rather than in a module of its own: the `check` subcommand shares it,
 * and a module of its own would be one more chunk for the token-is-good run to load.
 */
export async function readPassphrase(path: string): Promise<string> {
  try {
    return new TextDecoder().decode(await readCapped(path, MAX_PASSPHRASE_BYTES)).replace(/\r?\n$/, "");
  } catch (err) {
    throw new Error(`-pkey-passphrase-file ${path}: ${fsErrorReason(err)}`, { cause: err });
  }
}

const MAX_PASSPHRASE_BYTES = 64 * 1024;
