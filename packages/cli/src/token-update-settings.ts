import type { Logger } from "@luci-machine-tokend/core";
import type { ResolvedTokenUpdate } from "@luci-machine-tokend/core/internal";
import { readPassphrase } from "./read-passphrase.js";
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
  };
}
