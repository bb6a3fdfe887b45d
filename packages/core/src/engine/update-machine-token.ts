import { machineIdentityInputs } from "../credentials/machine-identity.js";
import { filePathProblem } from "../safe-files/file-path-problem.js";
import { runTokenUpdate } from "./run-token-update.js";
import type { TokenUpdateOptions, TokenUpdateResult } from "./token-update-options.js";

/**
 * One run of `luci_machine_tokend`, in process: exactly what the CLI does between its flags and
 * its outputs, step by step as Go's run(). Takes the token file's run lock, reads the token file,
 * loads the key and certificate, decides (Go's rules and reasons), then either writes the copies
 * that differ from a good token or mints a new token from the LUCI Token Server (retries bounded
 * by `timeoutMs`) and writes it to the token file and every copy, atomically. It writes no status
 * file and keeps no schedule: the result says what happened, as the status file would.
 *
 * @example A bot's bootstrap keeps the token file fresh before it starts the bot:
 * ```ts
 * const result = await updateMachineToken({
 *   backend: "luci-token-server.appspot.com",
 *   certFile: "/etc/machine/cert.pem",
 *   keyFile: "/etc/machine/key.pem",
 *   tokenFile: "/var/lib/luci_machine_tokend/token.json",
 * });
 * if (result.outcome !== "TOKEN_IS_GOOD" && result.outcome !== "UPDATE_SUCCESS") {
 *   throw new Error(`no machine token (${result.outcome}): ${result.failure}`);
 * }
 * ```
 *
 * @returns what the run did: the outcome and reason (Go's update_outcome and update_reason), the
 * token it ends with, the RPC's duration and the token server's version; every failure is a result.
 * @throws TypeError (a rejection) for certificate and key options given wrong (none, two ways, PEM
 * text as a path), PEM text where a path belongs, a `timeoutMs` that is not a positive finite
 * number, a `tokenFileMode` that is not a file mode, and copies without a token file. An
 * `afterUpdate` that throws rejects the call too (the new token is already saved then).
 */
export async function updateMachineToken(options: TokenUpdateOptions): Promise<TokenUpdateResult> {
  const identity = machineIdentityInputs(options, "updateMachineToken");
  const paths: [string, unknown][] = [
    ["tokenFile", options.tokenFile],
    ["caBundle", options.caBundle],
    ...(options.tokenFileCopies ?? []).map((p, i): [string, unknown] => [`tokenFileCopies[${i}]`, p]),
  ];
  for (const [name, path] of paths) {
    const problem = path === undefined ? undefined : filePathProblem(path);
    if (problem !== undefined) throw new TypeError(`updateMachineToken: ${name} is ${problem}`);
  }
  const { timeoutMs, tokenFileMode, tokenFile, tokenFileCopies } = options;
  // A NaN or infinite timeout would leave the lock's wait and the retries without a deadline.
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new TypeError(
      `updateMachineToken: timeoutMs must be a positive number of milliseconds, not ${timeoutMs}`,
    );
  }
  if (
    tokenFileMode !== undefined &&
    !(Number.isInteger(tokenFileMode) && tokenFileMode >= 0 && tokenFileMode <= 0o7777)
  ) {
    throw new TypeError(`updateMachineToken: tokenFileMode ${tokenFileMode} is not a file mode`);
  }
  // Copies are written under the token file's lock; without one two runs could interleave them.
  if (tokenFile === undefined && (tokenFileCopies?.length ?? 0) > 0) {
    throw new TypeError("updateMachineToken: tokenFileCopies need a tokenFile");
  }
  return runTokenUpdate({ ...options, identity });
}
