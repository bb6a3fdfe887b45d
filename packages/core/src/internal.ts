/**
 * What this project's own packages share besides the public API (the CLI's run and
 * subcommands, the dev server): the run lock, atomic writes, error and Go duration helpers, the
 * token file codec.
 *
 * Private: it does not follow semantic versioning and may change in any release. Programs use
 * the package root.
 *
 * Like the root, it loads neither protobuf-es nor Connect, and it must not re-export anything that
 * reaches them (each module that needs them loads them with import()): the CLI's token-is-good path imports core through this entry
 * only, so that its bundle's start-up chunks stay free of them (a test checks it:
 * packages/cli/src/e2e/cli.e2e.test.ts). That is why the root's functions that path runs
 * (runTokenUpdate, readTokenFile, writeTokenFile, …) are here too: esbuild's code
 * splitting puts everything an entry file re-exports, used anywhere, where that file is imported.
 *
 * @module @luci-machine-tokend/core/internal
 */

export { appendToFile } from "./append-to-file.js";
export { writeFileAtomic } from "./atomic-write.js";
export { backendBaseUrl } from "./backend-url.js";
export { type Backoff, createBackoff } from "./backoff.js";
export { calcDigest, tokendDigestInputs } from "./calc-digest.js";
export { type Monotonic, systemMonotonic, systemNow, systemSleep } from "./clock.js";
export { deadlineSignal } from "./deadline-signal.js";
export { decideUpdateReason } from "./decide-update-reason.js";
export { type Assessment, assessToken } from "./engine/assess-token.js";
export { microsSince } from "./engine/micros-since.js";
export { runTokenUpdate } from "./engine/run-token-update.js";
export type { ResolvedTokenUpdate, TokenUpdateResult } from "./engine/token-update-options.js";
export { filePathProblem } from "./file-path-problem.js";
export { errnoCode, errorMessage, fsErrorReason, isNotFoundError, isPermissionError } from "./fs-errors.js";
export { formatGoDuration, parseGoDuration } from "./go-duration.js";
export { goJsonStringify } from "./go-json.js";
export { certificateNames, machineFqdn } from "./machine-fqdn.js";
export { mintedTokenFile } from "./minted-token-file.js";
export { escapeForLog, MAX_MESSAGE_TEXT, printableError } from "./one-line.js";
export { isTrustedOwner, NotRegularFileError } from "./open-regular-file.js";
export { PROTOCOLS } from "./protocols.js";
export { readCapped, readRegularFile, readTokenFile } from "./read-token-file.js";
export { nextRefreshAt, sleepUntil } from "./refresh-schedule.js";
export { acquireRunLock, type RunLockResult } from "./run-lock.js";
export { removeStaleTempFiles } from "./stale-temp-files.js";
export { statusReportToJson } from "./status-report.js";
export { encodeTokenFile, parseTokenFile } from "./token-file.js";
export { TOKEND_VERSION } from "./tokend-state.js";
export { holdsTokenFile, tokenPathProblem, writeTokenFile } from "./write-token-file.js";
export { createX509Signer } from "./x509-signer.js";
