/**
 * Read and write LUCI machine token files, decide when to refresh, and mint tokens from the LUCI
 * Token Server over pRPC (or Connect/gRPC) with the buf-generated client.
 *
 * @module @luci-machine-tokend/core
 */

// Credentials: machine tokens for Node code that calls LUCI services (see credentials/).

export { MACHINE_TOKEN_HEADER, machineTokenInterceptor } from "./credentials/machine-token-interceptor.js";
export {
  createMachineTokenSource,
  type MachineTokenProblem,
  type MachineTokenSource,
  MachineTokenSourceError,
  type MachineTokenSourceOptions,
} from "./credentials/machine-token-source.js";
export {
  startTokenRefresher,
  type TokenRefresher,
  type TokenRefresherOptions,
  type TokenRefreshInfo,
} from "./credentials/token-refresher.js";
export { withMachineToken } from "./credentials/with-machine-token.js";
export { type MintedTokenFile, mintedTokenFile } from "./minted-token-file.js";
export { nextRefreshAt, sleepUntil } from "./refresh-schedule.js";

// End of credentials.

export {
  type AtomicWriteFs,
  type AtomicWriteOptions,
  isTempFileOf,
  nodeAtomicWriteFs,
  writeFileAtomic,
} from "./atomic-write.js";
export { backendBaseUrl } from "./backend-url.js";
export { type Backoff, type BackoffOptions, createBackoff } from "./backoff.js";
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
export * from "./gen/tokenserver/machine_token_pb.js";
export * from "./gen/tokenserver/minter/token_minter_pb.js";
export * from "./gen/tokenserver/token_file_pb.js";
export { formatGoDuration, type ParsedDuration, parseGoDuration } from "./go-duration.js";
export { type Logger, type LogLevel, silentLogger } from "./logger.js";
export { certificateNames, type MachineFqdn, machineFqdn } from "./machine-fqdn.js";
export { type DecodedMachineToken, decodeMachineToken, MachineTokenFormatError } from "./machine-token.js";
export { type MintedToken, type MintTokenOptions, mintToken, type TokenMinterClient } from "./mint-token.js";
export {
  errorCodeName,
  MintTokenError,
  type MintTokenErrorInit,
  type MintTokenErrorKind,
} from "./mint-token-error.js";
export {
  type BackendConnection,
  type BackendConnectionOptions,
  createBackendConnection,
} from "./net/backend-connection.js";
export { explainConnectionError } from "./net/connection-error-hints.js";
export { type ProxyEnv, proxyForUrl } from "./net/proxy-from-env.js";
export {
  LINUX_ROOT_LOCATIONS,
  loadTrustRoots,
  type SystemRootLocations,
  type TrustRootOptions,
  type TrustRoots,
} from "./net/trust-roots.js";
export { MIN_TOKEN_LIFETIME_MS, type NextUpdate, nextUpdateTime } from "./next-update-time.js";
export { escapeForLog, MAX_LOG_TEXT, MAX_MESSAGE_TEXT, oneLine, printableError } from "./one-line.js";
export { FIXED_OUTCOMES, UPDATE_REASONS, type UpdateOutcome, type UpdateReason } from "./outcome.js";
export { outcomeFromError } from "./outcome-from-error.js";
export { decodePemBlocks, type PemBlock } from "./pem.js";
export {
  PRPC_BINARY_CONTENT_TYPE,
  PRPC_JSON_CONTENT_TYPE,
  PRPC_JSON_PREFIX,
  type PrpcFormat,
  prpcFormatFromMediaType,
} from "./protocol-prpc/content-type.js";
export { grpcCodeFromHttpStatus, httpStatusFromGrpcCode } from "./protocol-prpc/http-status.js";
export {
  PRPC_MAX_RESPONSE_BYTES,
  PRPC_USER_AGENT,
  prpcRequestHeader,
} from "./protocol-prpc/request-header.js";
export { decodePrpcTimeout, encodePrpcTimeout, type ParsedPrpcTimeout } from "./protocol-prpc/timeout.js";
export { createPrpcTransport, type PrpcTransportOptions } from "./protocol-prpc/transport.js";
export { validatePrpcResponse } from "./protocol-prpc/validate-response.js";
export { PROTOCOLS, type Protocol } from "./protocols.js";
export {
  fileTypeName,
  MAX_TOKEN_FILE_BYTES,
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
export {
  encodeTokenFile,
  makeTokenFile,
  type ParsedTokenFile,
  parseTokenFile,
  type TokenFileInit,
} from "./token-file.js";
export { newTokenFile, TOKEN_FILE_FIELDS, tokenFileFromJson, tokenFileToJson } from "./token-file-json.js";
export {
  createTokenMinterClient,
  createTokenMinterTransport,
  type TokenMinterClientOptions,
} from "./token-minter-client.js";
export {
  type DecodedTokendState,
  decodeTokendState,
  encodeTokendState,
  TOKEND_VERSION,
  type TokendState,
} from "./tokend-state.js";
export { isUnusableResponse, UnusableResponseError } from "./unusable-response.js";
export {
  MachineTokenVerifyError,
  type SigningCertificates,
  type VerifyMachineTokenOptions,
  verifyMachineToken,
} from "./verify-machine-token.js";
export { tokenPathProblem, type WriteTokenFileOptions, writeTokenFile } from "./write-token-file.js";
export {
  createX509Signer,
  KeyLoadError,
  type Signer,
  type X509Signer,
  type X509SignerOptions,
} from "./x509-signer.js";
