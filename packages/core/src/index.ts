/**
 * Read and write LUCI machine token files, decide when to refresh, mint tokens from the LUCI
 * Token Server over pRPC (or Connect/gRPC), and verify machine tokens.
 *
 * The API comes in tiers, as connect-es's:
 * - this entry: the symbols above the marker below are for programs that use the library; those
 *   after it only for libraries built on it. Both follow semver. Importing it loads neither
 *   protobuf-es nor Connect (they load at the first mint, client call or verification), so it
 *   costs little more than Node itself (bench/import-cost.ts).
 * - `@luci-machine-tokend/core/gen`: the buf-generated messages, enums and the TokenMinter
 *   service (protobuf-es schemas), for building or decoding messages yourself.
 * - `@luci-machine-tokend/core/protocol-prpc`: the pRPC wire helpers (transport, headers, codes).
 *   Private: no semver.
 * - `@luci-machine-tokend/core/net`: trust roots, proxies and proxy agents as Go's HTTP client
 *   has them, for the CLI's calls to Google services. Private: no semver.
 * - `@luci-machine-tokend/core/internal`: plumbing shared by this project's own packages (the
 *   CLI and the dev server). Private: no semver.
 *
 * @module @luci-machine-tokend/core
 */

// Token files: read, build and write them exactly as Go tokend does.

export type { TokenFile } from "./gen/tokenserver/token_file_pb.js";
export { makeTokenFile, type TokenFileInit } from "./token-file/make-token-file.js";
export {
  type ReadTokenFileOptions,
  type ReadTokenFileResult,
  readTokenFile,
} from "./token-file/read-token-file.js";
export { TOKEND_VERSION, type TokendState } from "./token-file/tokend-state.js";
export { type WriteTokenFileOptions, writeTokenFile } from "./token-file/write-token-file.js";

// Deciding: the inputs digest, the update decision and the next update time.

export { calcDigest, tokendDigestInputs } from "./token-file/calc-digest.js";
export { decideUpdateReason, type UpdateDecisionInput } from "./token-file/decide-update-reason.js";
export { type NextUpdate, nextUpdateTime } from "./token-file/next-update-time.js";

// Minting: the client, the signer, the call and its errors.

export {
  type MintedToken,
  type MintTokenOptions,
  mintToken,
  type TokenMinterClient,
} from "./mint/mint-token.js";
export { MintTokenError, type MintTokenErrorInit, type MintTokenErrorKind } from "./mint/mint-token-error.js";
export { outcomeFromError } from "./mint/outcome-from-error.js";
export { createTokenMinterClient, type TokenMinterClientOptions } from "./mint/token-minter-client.js";
export {
  createX509Signer,
  KeyLoadError,
  type Signer,
  type X509Signer,
  type X509SignerOptions,
} from "./mint/x509-signer.js";

// The status report of a run, as Go tokend's status file.

export type { UpdateOutcome, UpdateReason } from "./token-file/outcome.js";
export { type StatusReport, statusReportToJson } from "./token-file/status-report.js";

// Decoding and verifying machine tokens (a service verifies those it receives).

export type { MachineTokenBody } from "./gen/tokenserver/machine_token_pb.js";
export {
  type DecodedMachineToken,
  decodeMachineToken,
  MachineTokenFormatError,
} from "./machine-token/decode-machine-token.js";
export {
  MachineTokenVerifyError,
  type SigningCertificates,
  type VerifyMachineTokenOptions,
  verifyMachineToken,
} from "./machine-token/verify-machine-token.js";

// One run of luci_machine_tokend, in process: lock, read, decide, mint, write.

export type {
  HeldToken,
  TokenUpdateOptions,
  TokenUpdateResult,
  TokenUpdateSettings,
} from "./engine/token-update-options.js";
export { updateMachineToken } from "./engine/update-machine-token.js";

// Credentials: machine tokens for Node code that calls LUCI services (see credentials/).

export { MACHINE_TOKEN_HEADER, machineTokenInterceptor } from "./credentials/machine-token-interceptor.js";
export {
  createMachineTokenSource,
  type MachineTokenProblem,
  type MachineTokenSource,
  MachineTokenSourceError,
  type MachineTokenSourceOptions,
} from "./credentials/machine-token-source.js";
export { startTokenRefresher, type TokenRefresher } from "./credentials/token-refresher.js";
export { TokenRefresherError, type TokenRefresherErrorCode } from "./credentials/token-refresher-error.js";
export type {
  MachineCertificate,
  MachinePrivateKey,
  TokenRefresherOptions,
  TokenRefresherSettings,
  TokenRefreshInfo,
} from "./credentials/token-refresher-options.js";
export { withMachineToken } from "./credentials/with-machine-token.js";

// Types of the options above.

export type { Now, Random, Sleep } from "./common/clock.js";
export type { Logger, LogLevel } from "./common/logger.js";
export { PROTOCOLS, type Protocol } from "./mint/protocols.js";

// Symbols above should be relevant to end users.
// Symbols below should only be relevant for other libraries.

export type { BackendConnectionOptions } from "./net/backend-target.js";
export type { SystemRootLocations } from "./net/trust-roots.js";
export type { AtomicWriteFs, AtomicWriteHandle, AtomicWriteOptions } from "./safe-files/atomic-write.js";
export { FIXED_OUTCOMES, UPDATE_REASONS } from "./token-file/outcome.js";
