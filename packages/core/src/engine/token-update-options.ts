import type { Monotonic, Now, Random, Sleep } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import type { MachineCertificate, MachinePrivateKey } from "../credentials/token-refresher-options.js";
import type { TokenFile } from "../gen/tokenserver/token_file_pb.js";
import type { TokenMinterClient } from "../mint/mint-token.js";
import type { Protocol } from "../mint/protocols.js";
import type { PemInput } from "../mint/x509-signer.js";
import type { AtomicWriteFs } from "../safe-files/atomic-write.js";
import type { UpdateOutcome, UpdateReason } from "../token-file/outcome.js";
import type { TokendState } from "../token-file/tokend-state.js";

/** A token and its tokend state, as held in a token file or in memory. */
export interface HeldToken {
  token?: TokenFile;
  state?: TokendState;
}

/** Options of {@link updateMachineToken}: one run of `luci_machine_tokend`, without its flags. */
export interface TokenUpdateSettings {
  /** The token server as `-backend` takes it: `host[:port]` (plain HTTP only for loopback). */
  backend: string;
  /** Passphrase of an encrypted key, or a function that reads it (its failure is a key error). */
  keyPassphrase?: string | (() => Promise<string>);
  /**
   * The primary token file, as `-token-file`: locked, read, judged and, after a mint, written.
   * Without it the run judges `held` only and writes no file (nor copies: they need a token file).
   */
  tokenFile?: string;
  /** Copies of the token file, as `-token-file-copy`: written after a mint, and when they differ from a good token. */
  tokenFileCopies?: readonly string[];
  /** Mode of a new token file before the umask. Default 0o644, as Go tokend. */
  tokenFileMode?: number;
  /** Other files the caller writes atomically beside the token (a status file): their leftover temp files are removed too. */
  leftoversOf?: readonly string[];
  /** Wire protocol. Default "prpc", as Go's client. */
  protocol?: Protocol;
  /** Extra trust roots (PEM file), as `-ca-bundle`, for the default client. */
  caBundle?: string;
  /** The environment of the default client (proxies, trust roots); default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Makes the TokenMinter client when a mint is needed; default createTokenMinterClient. */
  client?: () => TokenMinterClient | Promise<TokenMinterClient>;
  /** The whole run, the lock wait and the RPC's retries included, as `-timeout`. Default 60 s. */
  timeoutMs?: number;
  /** Mint even when the token is good, as `-force-refresh`. */
  forceRefresh?: boolean;
  /**
   * A token the caller holds in memory and serves (startTokenRefresher). The newer of it and the
   * token file's (by last_update) is judged; a file token that could not be served (not a
   * machine token, an expiry no date holds) is ignored; a good held token the file lacks is
   * written back; and a mint goes ahead when the token file cannot be written (the new token is
   * returned, with the write's error).
   */
  held?: HeldToken;
  /** Runs after a new token was written everywhere, while the run still holds the lock (the CLI's `-exec`); a throw rejects the call, the token already saved. */
  afterUpdate?: (token: TokenFile) => Promise<void>;
  now?: Now;
  /** Measures the RPC's duration (default process.hrtime). */
  monotonic?: Monotonic;
  sleep?: Sleep;
  random?: Random;
  /** Spread retry delays (default true). */
  jitter?: boolean;
  /** Receives every log line of the run, as Go tokend logs them. */
  logger?: Logger;
  /** Cancels the run: a pending RPC ends with GRPC_ERROR_1. */
  signal?: AbortSignal;
  /** File operations of token writes, to inject faults. */
  atomicFs?: Partial<AtomicWriteFs>;
}

/** {@link updateMachineToken}'s options: the settings and the machine's certificate and key (files or PEM). */
export type TokenUpdateOptions = TokenUpdateSettings & MachineCertificate & MachinePrivateKey;

/** The settings with the certificate and key resolved (what the CLI and the refresher pass). */
export type ResolvedTokenUpdate = TokenUpdateSettings & {
  identity: { cert: PemInput; key: PemInput };
  /** Checks that the token file's directory is writable (default: access W_OK); tests inject its error, as root ignores modes. */
  checkWritable?: (dir: string) => Promise<void>;
  /** Called once a refresh is decided, before its code loads (the CLI's bin tunes V8 for it there). */
  beforeRefresh?: () => void;
};

/** What one run did, as Go tokend's status file says it, and the token it ends with. */
export interface TokenUpdateResult {
  /** Go's update_outcome: TOKEN_IS_GOOD and UPDATE_SUCCESS are successes. */
  outcome: UpdateOutcome;
  /** Go's update_reason (MISSING_TOKEN_COPY when copies of a good token were written); absent when the run ended before deciding. */
  reason?: UpdateReason;
  /** The token the run found (the primary file's, or the newer of it and `held`). */
  found?: TokenFile;
  /** The token the run ends with: the good one, the one just minted (even when a write failed), or the one found. */
  token?: TokenFile;
  state?: TokendState;
  /** True when a new token was minted. */
  minted: boolean;
  /** The token server's version, when it answered. */
  serviceVersion?: string;
  /** How long the RPC took, retries included, in whole microseconds; absent without an RPC. */
  rpcDurationUs?: number;
  /** What failed, in one line of escaped text (Go's failure_error). */
  failure?: string;
  /** What failed, as an Error: the failure's own, or for a token write one naming the file. */
  error?: Error;
}
