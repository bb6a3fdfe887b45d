import { commandLine } from "./command-line.js";
import type { ResolvedTokendOptions } from "./tokend-options.js";

/**
 * The last log line of a failed run: the `check` command that diagnoses this run's setup (key and
 * certificate, token directory, backend, clock), with this run's own flags. One line; it adds to
 * the log and changes no outcome.
 */
export function checkHint(options: ResolvedTokendOptions): string {
  const words = ["luci-machine-tokend", "check", "-backend", options.backend];
  words.push("-cert-pem", options.certPem, "-pkey-pem", options.pkeyPem, "-token-file", options.tokenFile);
  if (options.pkeyPassphraseFile) words.push("-pkey-passphrase-file", options.pkeyPassphraseFile);
  if (options.caBundle) words.push("-ca-bundle", options.caBundle);
  return `To find out what is wrong, run: ${commandLine(words)}`;
}
