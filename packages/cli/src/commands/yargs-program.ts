import yargs, { type Argv } from "yargs";
import type { CliIo } from "../cli-io.js";
import { pemTextArgument } from "../pem-text-argument.js";
import { goStyleArgv } from "./subcommand-argv.js";

/**
 * A yargs program for a subcommand that never exits the process: help goes to stdout (exit 0),
 * bad flags to stderr with the usage (exit 2), as Go's flag package does for the main command.
 */
export async function parseSubcommand<T>(
  name: string,
  argv: readonly string[],
  io: CliIo,
  define: (y: Argv) => Argv<T>,
): Promise<{ args: T } | { exitCode: number }> {
  let failure: string | undefined;
  let helpShown = false;
  const program = define(
    yargs()
      .scriptName(`luci-machine-tokend ${name}`)
      .exitProcess(false)
      .strict()
      .help("help")
      .alias("help", "h")
      .version(false)
      // English whatever LANG says, like Go's messages; the bundle ships no yargs locale files.
      .locale("en")
      // A flag given twice keeps its last value, as Go's flags do (yargs would make an array).
      .parserConfiguration({ "duplicate-arguments-array": false })
      .wrap(100),
  ).fail((msg, err) => {
    failure = msg ?? err?.message ?? "invalid arguments";
  });
  // No subcommand takes PEM on its command line (keys come in files): refused before yargs, which
  // would read a pasted key as flags and echo its words.
  const pem = pemTextArgument(argv);
  if (pem !== undefined) {
    io.stderr(`${pem}\n\n${await program.getHelp()}\n`);
    return { exitCode: 2 };
  }
  let output = "";
  const args = await program.parseAsync(goStyleArgv(argv), {}, (_err, _argv, text) => {
    output = text;
    helpShown = !failure && text !== "";
  });
  if (failure !== undefined) {
    io.stderr(`${failure}\n\n${await program.getHelp()}\n`);
    return { exitCode: 2 };
  }
  if (helpShown) {
    io.stdout(`${output}\n`);
    return { exitCode: 0 };
  }
  return { args: args as T };
}
