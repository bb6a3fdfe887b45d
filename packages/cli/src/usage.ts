import { FLAGS, type FlagSpec } from "./flags.js";
import { flagDefault } from "./go-flags.js";
import { goQuote } from "./go-quote.js";

/**
 * The usage text, on stderr for `-h` and after a flag error as Go prints it: `Usage:` and Go's
 * flags in the layout of Go's flag.PrintDefaults (sorted by name, Go's type words, defaults shown
 * and quoted as Go does), so `diff` against the Go binary's `-h` shows only reworded usage
 * sentences; then, appended, our options (same layout), the subcommands and the exit codes.
 */
export function usageText(): string {
  const all = [...FLAGS.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [
    "Usage:",
    ...all.filter((f) => !f.ours).map(describeFlag),
    "",
    "Options beyond the Go tokend:",
    ...all.filter((f) => f.ours).map(describeFlag),
    "",
    "Subcommands (luci-machine-tokend <command> --help for their flags):",
    "  inspect     decode the token file: machine, times, time left, last status (exit 1 if expired)",
    "  check       check the key, certificate, identity, token directory, backend and clock",
    "  csr         make a new machine key and a certificate signing request",
    "  dev-server  run a local LUCI token server for tests and demos",
    "  demo        the whole job on loopback: dev server, demo key, one run (npm start)",
    "",
    "Exit codes: 0 token refreshed or still good; 1 the run failed (see -status-file); 2 bad flags.",
    "",
  ].join("\n");
}

/** The type word Go's flag.UnquoteUsage prints for each kind (bool prints none). */
const TYPE_WORDS: Record<FlagSpec["kind"], string> = {
  string: "string",
  strings: "value",
  duration: "duration",
  int: "int",
  enum: "value",
  mode: "value",
  bool: "",
};

/** One flag as Go's flag.PrintDefaults writes it. */
export function describeFlag(flag: FlagSpec): string {
  const type = flag.typeName ?? TYPE_WORDS[flag.kind];
  const head = `  -${flag.name}${type && ` ${type}`}`;
  // Go puts the usage of a one-letter bool on the same line, every other under it.
  const text = `${head}${head.length <= 4 ? "\t" : "\n    \t"}${flag.usage.replaceAll("\n", "\n    \t")}`;
  return `${text}${defaultNote(flag)}`;
}

/** Go shows a default that differs from the type's zero value; strings with `%q`. */
function defaultNote(flag: FlagSpec): string {
  if (flag.default === undefined || flag.hideDefault) return "";
  const value = flagDefault(flag);
  if (value === "" || value === false || value === 0 || value === 0n) return "";
  return ` (default ${flag.kind === "string" ? goQuote(flag.default) : flag.default})`;
}
