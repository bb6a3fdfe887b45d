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
 * text as a path) and PEM text where a path belongs.
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
  return runTokenUpdate({ ...options, identity });
}
