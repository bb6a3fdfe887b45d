import { handleInterrupts } from "./interrupts.js";
import { main } from "./main.js";

// First SIGINT/SIGTERM cancels the run (its status is still written); a second one aborts at once.
const controller = new AbortController();
const interrupts = handleInterrupts(controller);

const code = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  signal: controller.signal,
  onHangup: (listener) => {
    process.on("SIGHUP", listener);
    return () => process.off("SIGHUP", listener);
  },
});
interrupts.exit(code);
