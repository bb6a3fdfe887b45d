import { FLAGS, type FlagSpec } from "./flags.js";

/** The program name Go prints in its usage line. */
export const PROGRAM = "luci_machine_tokend";

/**
 * The usage text in the layout of Go's flag.PrintDefaults, so operators see what they know, with
 * our extra flags and the subcommands in their own sections.
 */
export function usageText(): string {
  const all = [...FLAGS.values()].sort((a, b) => a.name.localeCompare(b.name));
  const lines = [`Usage of ${PROGRAM}:`, ...all.filter((f) => !f.ours).flatMap(describe)];
  lines.push("", "Options beyond the Go tokend:", ...all.filter((f) => f.ours).flatMap(describe));
  lines.push(
    "",
    "Subcommands (luci-machine-tokend <command> --help for their flags):",
    "  inspect     decode the token file: machine, times, time left, last status (exit 1 if expired)",
    "  check       check the key, certificate, identity, token directory, backend and clock",
    "  csr         make a new machine key and a certificate signing request",
    "  dev-server  run a local LUCI token server for tests and demos",
    "  demo        the whole job on loopback: dev server, demo key, one run (npm start)",
    "",
    "Exit codes: 0 token refreshed or still good; 1 the run failed (see -status-file); 2 bad flags.",
  );
  return `${lines.join("\n")}\n`;
}

function describe(flag: FlagSpec): string[] {
  const type = {
    string: " string",
    strings: " value",
    duration: " duration",
    int: " int",
    mode: " mode",
    bool: "",
  }[flag.kind];
  const def =
    flag.defaultText === undefined
      ? ""
      : ` (default ${flag.kind === "string" ? JSON.stringify(flag.defaultText) : flag.defaultText})`;
  return [`  -${flag.name}${type}`, `    \t${flag.usage}${def}`];
}
