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

export { type Monotonic, systemMonotonic, systemNow, systemSleep } from "./common/clock.js";
export { deadlineSignal } from "./common/deadline-signal.js";
export {
  errnoCode,
  errorMessage,
  fsErrorReason,
  isNotFoundError,
  isPermissionError,
} from "./common/fs-errors.js";
export { formatGoDuration, parseGoDuration } from "./common/go-duration.js";
export { escapeForLog, MAX_MESSAGE_TEXT, printableError } from "./common/one-line.js";
export { type Assessment, assessToken } from "./engine/assess-token.js";
export { microsSince } from "./engine/micros-since.js";
export { runTokenUpdate } from "./engine/run-token-update.js";
export type { ResolvedTokenUpdate, TokenUpdateResult } from "./engine/token-update-options.js";
export { type Backoff, createBackoff } from "./mint/backoff.js";
export { certificateNames, machineFqdn } from "./mint/machine-fqdn.js";
export { PROTOCOLS } from "./mint/protocols.js";
export { createX509Signer } from "./mint/x509-signer.js";
export { backendBaseUrl } from "./net/backend-url.js";
export { appendToFile } from "./safe-files/append-to-file.js";
export { writeFileAtomic } from "./safe-files/atomic-write.js";
export { filePathProblem } from "./safe-files/file-path-problem.js";
export { isTrustedOwner, NotRegularFileError } from "./safe-files/open-regular-file.js";
export { acquireRunLock, type RunLockResult } from "./safe-files/run-lock.js";
export { removeStaleTempFiles } from "./safe-files/stale-temp-files.js";
export { calcDigest, tokendDigestInputs } from "./token-file/calc-digest.js";
export { decideUpdateReason } from "./token-file/decide-update-reason.js";
export { goJsonStringify } from "./token-file/go-json.js";
export { mintedTokenFile } from "./token-file/minted-token-file.js";
export { readCapped, readRegularFile, readTokenFile } from "./token-file/read-token-file.js";
export { nextRefreshAt, sleepUntil } from "./token-file/refresh-schedule.js";
export { statusReportToJson } from "./token-file/status-report.js";
export { encodeTokenFile, parseTokenFile } from "./token-file/token-file.js";
export { TOKEND_VERSION } from "./token-file/tokend-state.js";
export { holdsTokenFile, tokenPathProblem, writeTokenFile } from "./token-file/write-token-file.js";
