import { handleInterrupts } from "./interrupts.js";
import { main } from "./main.js";
import { useShortRunV8Flags } from "./short-run-v8-flags.js";
import { isSubcommand } from "./subcommand-names.js";

const argv = process.argv.slice(2);
// A tokend run (or a daemon, which is idle between runs) is tuned for peak memory; the
// subcommands (the dev server among them) keep V8's defaults. Only the bin: never a library user's process.
if (!isSubcommand(argv)) useShortRunV8Flags();

// First SIGINT/SIGTERM cancels the run (its status is still written); a second one aborts at once.
const controller = new AbortController();
const interrupts = handleInterrupts(controller);

// No top-level await: the bundle script can then also emit this entry as one CommonJS file.
main(argv, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  signal: controller.signal,
  onHangup: (listener) => {
    process.on("SIGHUP", listener);
    return () => process.off("SIGHUP", listener);
  },
}).then((code) => interrupts.exit(code));
