import type { Logger } from "@luci-machine-tokend/core";
import { systemNow, systemSleep } from "@luci-machine-tokend/core/internal";
import type { CliIo } from "./cli-io.js";
import { cliOptionsFromFlags } from "./cli-options.js";
import { parseGoFlags } from "./go-flags.js";
import { initTsMon } from "./metrics/ts-mon.js";
import { packageVersion } from "./package-version.js";
import { pemTextArgument } from "./pem-text-argument.js";
import { writeReportOutputs } from "./report-outputs.js";
import { formatGoLogLine } from "./run-logger.js";
import { exitCodeOf, runTokend } from "./run-tokend.js";
import type { SubcommandName } from "./subcommand-names.js";
import { unknownCommandLine } from "./unknown-command.js";
import { usageText } from "./usage.js";

type LoadSubcommand = () => Promise<{ run(argv: string[], io: CliIo): Promise<number> }>;

/** Subcommands (each one of SUBCOMMAND_NAMES, which the bundle script reads); anything else is a tokend run. */
const SUBCOMMANDS: Record<string, LoadSubcommand> = {
  inspect: () => import("./commands/inspect.js"),
  check: () => import("./commands/check.js"),
  csr: () => import("./commands/csr.js"),
  "dev-server": () => import("./commands/dev-server.js"),
  demo: () => import("./commands/demo.js"),
} satisfies Record<SubcommandName, LoadSubcommand>;

/**
 * The whole CLI: a subcommand, or a tokend run exactly like Go's (flags, status file, metrics,
 * exit code 0 success / 1 run failure / 2 bad flags). Never exits the process itself.
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const command = argv[0] ?? "";
  const load = Object.hasOwn(SUBCOMMANDS, command) ? SUBCOMMANDS[command] : undefined;
  if (load) return (await load()).run(argv.slice(1), io);

  // Before Go's parser, which would quote a key pasted into the command line in its error.
  const pem = pemTextArgument(argv);
  if (pem !== undefined) {
    io.stderr(`${pem}\n${usageText()}`);
    return 2;
  }
  // As Go's flag package: the usage goes to stderr, for -h (exit 0) and after a flag error (exit 2).
  const parsed = parseGoFlags(argv);
  if (parsed.kind === "help") {
    io.stderr(usageText());
    return 0;
  }
  if (parsed.kind === "error") {
    io.stderr(`${parsed.message}\n${parsed.hint ? `${parsed.hint}\n` : ""}${usageText()}`);
    return 2;
  }
  if (parsed.values.get("version") === true) {
    io.stdout(`${packageVersion()}\n`);
    return 0;
  }
  const checked = cliOptionsFromFlags(parsed.values);
  if ("error" in checked) {
    // A first word that is no subcommand: Go stopped parsing there, so a required flag is missing.
    const typo = unknownCommandLine(command, Object.keys(SUBCOMMANDS));
    io.stderr(`${typo ? `${typo}\n` : ""}${checked.error}\n${usageText()}`);
    return 2;
  }
  const { options } = checked;
  const now = io.deps?.now ?? systemNow;
  const logger: Logger = {
    log: (level, message) => io.stderr(`${formatGoLogLine(level, message, now(), process.pid)}\n`),
  };
  if (options.dryRun) {
    const { dryRun } = await import("./dry-run.js");
    const result = await dryRun(options, { now, logger });
    io.stdout(result.lines.map((l) => `${l}\n`).join(""));
    return result.exitCode;
  }
  const signal = io.signal ?? new AbortController().signal;
  // As Go: ts-mon is set up before the run (its problems logged, never fatal), flushed after it.
  const tsMon = await initTsMon(options.tsMon, logger, io.tsMon);
  const outputs = { tsMon, writeRaw: io.stderr, env: io.tsMon?.env };
  if (options.daemon) {
    const { runDaemon } = await import("./daemon.js");
    return runDaemon(options, {
      ...io.deps,
      logger,
      signal,
      onHangup: io.onHangup,
      onListening: io.onListening,
      outputs,
    });
  }
  if (options.splayMs > 0) {
    // Spread a fleet whose cron fires at the same second; an interrupt during the wait just runs now.
    const wait = (io.deps?.random ?? Math.random)() * options.splayMs;
    await (io.deps?.sleep ?? systemSleep)(wait, signal).catch(() => {});
  }
  const report = await runTokend(options, { ...io.deps, logger, signal });
  await writeReportOutputs(report, options, logger, now, outputs);
  return exitCodeOf(report);
}
