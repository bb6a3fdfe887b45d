import { handleInterrupts } from "./interrupts.js";
import { main } from "./main.js";
import { useShortRunV8Flags } from "./short-run-v8-flags.js";

const argv = process.argv.slice(2);

// First SIGINT/SIGTERM cancels the run (its status is still written); a second one aborts at once.
const controller = new AbortController();
const interrupts = handleInterrupts(controller);

// No top-level await: the bundle script can then also emit this entry as one CommonJS file.
main(argv, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  signal: controller.signal,
  // A refresh is tuned for peak memory from the moment it is decided: earlier, the flags would
  // cost a run whose token is good ~13 ms (each of Node's modules loaded after a flag change is
  // compiled anew, its built-in code cache refused). The subcommands, the dev server among them,
  // keep V8's defaults; so does a library user's process (only the bin passes this).
  deps: { beforeRefresh: () => useShortRunV8Flags() },
  onHangup: (listener) => {
    process.on("SIGHUP", listener);
    return () => process.off("SIGHUP", listener);
  },
}).then((code) => interrupts.exit(code));
