/**
 * The parts of core that need no network and no protobuf or Connect runtime — token files, the
 * inputs digest, the update decision, status reports and the X.509 signer. It loads in a few
 * milliseconds, so a tokend run that finds its token still good (almost every run) starts about as
 * fast as Node itself. Everything here is also exported by the package root.
 *
 * @module @luci-machine-tokend/core/offline
 */

export { type AtomicWriteFs, type AtomicWriteOptions, writeFileAtomic } from "./atomic-write.js";
export { backendBaseUrl } from "./backend-url.js";
export { calcDigest, FORCE_BUMP, tokendDigestInputs } from "./calc-digest.js";
export {
  type Monotonic,
  type Now,
  type Random,
  type Sleep,
  systemMonotonic,
  systemNow,
  systemSleep,
} from "./clock.js";
export { decideUpdateReason, type UpdateDecisionInput } from "./decide-update-reason.js";
export { errnoCode, errorMessage, fsErrorReason, isNotFoundError, isPermissionError } from "./fs-errors.js";
export type { TokenFile } from "./gen/tokenserver/token_file_pb.js";
export { formatGoDuration, type ParsedDuration, parseGoDuration } from "./go-duration.js";
export { type Logger, type LogLevel, silentLogger } from "./logger.js";
export { escapeForLog, MAX_LOG_TEXT, MAX_MESSAGE_TEXT, oneLine, printableError } from "./one-line.js";
export { FIXED_OUTCOMES, UPDATE_REASONS, type UpdateOutcome, type UpdateReason } from "./outcome.js";
export { PROTOCOLS, type Protocol } from "./protocols.js";
export {
  fileTypeName,
  type ReadTokenFileOptions,
  type ReadTokenFileResult,
  readCapped,
  readTokenFile,
} from "./read-token-file.js";
export {
  acquireRunLock,
  type RunLock,
  type RunLockOptions,
  type RunLockRefusal,
  type RunLockResult,
} from "./run-lock.js";
export { processIsAlive, removeStaleTempFiles, type StaleTempFileOptions } from "./stale-temp-files.js";
export { type StatusReport, statusReportToJson } from "./status-report.js";
export { encodeTokenFile, makeTokenFile, parseTokenFile } from "./token-file.js";
export { TOKEND_VERSION, type TokendState } from "./tokend-state.js";
export { tokenPathProblem, type WriteTokenFileOptions, writeTokenFile } from "./write-token-file.js";
export { createX509Signer, KeyLoadError, type Signer, type X509Signer } from "./x509-signer.js";
