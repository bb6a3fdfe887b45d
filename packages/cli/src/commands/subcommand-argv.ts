/**
 * Lets subcommands take Go-style flags (`-token-file P`, `-json`) like the main command: yargs
 * reads a single dash as a group of one-letter flags, so long single-dash flags get a second dash.
 */
export function goStyleArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of argv) {
    if (arg === "--") {
      out.push(...argv.slice(argv.indexOf(arg)));
      break;
    }
    out.push(/^-[A-Za-z][\w-]+(=.*)?$/s.test(arg) ? `-${arg}` : arg);
  }
  return out;
}
