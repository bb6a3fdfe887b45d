import type { Protocol } from "@luci-machine-tokend/core";
import { backendBaseUrl, filePathProblem, PROTOCOLS } from "@luci-machine-tokend/core/internal";

/**
 * What runTokend is told: the four of Go's required flags, and the rest with Go's
 * defaults. Paths are as the flags take them.
 */
export interface TokendOptions {
  /** `-pkey-pem`: the machine's private key (PEM). Required. */
  pkeyPem: string;
  /** `-cert-pem`: the machine's certificate (PEM; a chain may follow). Required. */
  certPem: string;
  /** `-backend`: the token server as `host[:port]`. Required. */
  backend: string;
  /** `-token-file`: the token file, the only one read back. Required. */
  tokenFile: string;
  /** `-token-file-copy`: more files to keep the token in. Default none. */
  tokenFileCopies?: string[];
  /**
   * `-status-file`, written by the caller from the returned report (the CLI does): the run only
   * removes the temp files of writes a killed run left beside it. Default none.
   */
  statusFile?: string;
  /** `-prometheus-textfile`, as `statusFile`. Default none. */
  prometheusTextfile?: string;
  /** `-timeout`: deadline of the run, retries included; also the cap on one retry delay. Default 60 s, as Go. */
  timeoutMs?: number;
  /** `-force-refresh`: mint even when the token is good. Default false. */
  forceRefresh?: boolean;
  /** `-protocol`. Default "prpc", Go's only one. */
  protocol?: Protocol;
  /** `-ca-bundle`: extra trust roots (PEM). Default none. */
  caBundle?: string;
  /** `-pkey-passphrase-file`: the passphrase of an encrypted key. Default none. */
  pkeyPassphraseFile?: string;
  /** `-token-file-mode`: mode of token files before the umask. Default 0o644, as Go. */
  tokenFileMode?: number;
  /** `-exec`: shell command run after the token changed. Default none. */
  exec?: string;
  /** `-exec-timeout`: when the hook's process group is killed. Default 30 s. */
  execTimeoutMs?: number;
}

/** {@link TokendOptions} with every default filled in and checked (see {@link resolveTokendOptions}). */
export type ResolvedTokendOptions = Required<
  Omit<TokendOptions, "statusFile" | "prometheusTextfile" | "caBundle" | "pkeyPassphraseFile" | "exec">
> &
  Pick<TokendOptions, "statusFile" | "prometheusTextfile" | "caBundle" | "pkeyPassphraseFile" | "exec">;

/** The defaults of {@link TokendOptions}; the flag table's are the same (tokend-options.test.ts). */
export const TOKEND_DEFAULTS = {
  tokenFileCopies: [] as string[],
  timeoutMs: 60_000,
  forceRefresh: false,
  protocol: "prpc",
  tokenFileMode: 0o644,
  execTimeoutMs: 30_000,
} as const satisfies Partial<TokendOptions>;

/**
 * Fills in the defaults and checks the options once, as connect-node checks a transport's: the
 * required paths are given, the backend is `host[:port]`, the protocol and mode are valid. A
 * timeout of 0 or less is kept: as in Go, the deadline has then passed.
 *
 * @throws Error naming the option, for options no run could use.
 */
export function resolveTokendOptions(options: TokendOptions): ResolvedTokendOptions {
  for (const key of ["pkeyPem", "certPem", "backend", "tokenFile"] as const) {
    if (typeof options[key] !== "string" || options[key] === "")
      throw new Error(`runTokend: ${key} is required`);
  }
  backendBaseUrl(options.backend);
  const paths = { ...options, tokenFileCopies: undefined, exec: undefined };
  for (const [key, value] of Object.entries(paths)) {
    const problem = typeof value === "string" ? filePathProblem(value) : undefined;
    if (problem) throw new Error(`runTokend: ${key} is ${problem}`);
  }
  for (const copy of options.tokenFileCopies ?? []) {
    const problem = filePathProblem(copy);
    if (problem) throw new Error(`runTokend: tokenFileCopies holds ${problem}`);
  }
  const resolved: ResolvedTokendOptions = {
    ...options,
    tokenFileCopies: options.tokenFileCopies ?? [...TOKEND_DEFAULTS.tokenFileCopies],
    timeoutMs: options.timeoutMs ?? TOKEND_DEFAULTS.timeoutMs,
    forceRefresh: options.forceRefresh ?? TOKEND_DEFAULTS.forceRefresh,
    protocol: options.protocol ?? TOKEND_DEFAULTS.protocol,
    tokenFileMode: options.tokenFileMode ?? TOKEND_DEFAULTS.tokenFileMode,
    execTimeoutMs: options.execTimeoutMs ?? TOKEND_DEFAULTS.execTimeoutMs,
  };
  if (!PROTOCOLS.includes(resolved.protocol)) {
    throw new Error(
      `runTokend: protocol ${JSON.stringify(resolved.protocol)} is not one of ${PROTOCOLS.join(", ")}`,
    );
  }
  if (
    !Number.isInteger(resolved.tokenFileMode) ||
    resolved.tokenFileMode < 0 ||
    resolved.tokenFileMode > 0o7777
  ) {
    throw new Error(`runTokend: tokenFileMode ${resolved.tokenFileMode} is not a file mode`);
  }
  for (const key of ["timeoutMs", "execTimeoutMs"] as const) {
    if (!Number.isFinite(resolved[key])) throw new Error(`runTokend: ${key} is not a number of milliseconds`);
  }
  return resolved;
}
