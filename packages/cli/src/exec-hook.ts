import { spawn } from "node:child_process";
import { formatGoDuration, type Logger } from "@luci-machine-tokend/core/offline";

/**
 * Runs the `-exec` command after a refresh changed the token: through the shell, with
 * LUCI_MACHINE_TOKEN_FILE set to the primary token file, its output on our stderr, killed after
 * `timeoutMs`. Its exit status goes to the log; it never fails the run.
 */
export async function runExecHook(
  command: string,
  tokenFile: string,
  timeoutMs: number,
  logger: Logger,
): Promise<number | undefined> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, {
      shell: true,
      stdio: ["ignore", process.stderr, process.stderr],
      env: { ...process.env, LUCI_MACHINE_TOKEN_FILE: tokenFile },
      timeout: timeoutMs,
      killSignal: "SIGKILL",
    });
    child.once("error", (err) => {
      logger.log("warning", `-exec command could not start: ${err.message}`);
      resolve(undefined);
    });
    child.once("exit", (code, signal) => {
      const took = formatGoDuration(performance.now() - started);
      if (signal !== null) {
        const why =
          signal === "SIGKILL" ? `timed out after ${formatGoDuration(timeoutMs)}` : `killed by ${signal}`;
        logger.log("warning", `-exec command ${why}`);
      } else if (code === 0) {
        logger.log("info", `-exec command exited with status 0 in ${took}`);
      } else {
        logger.log("warning", `-exec command exited with status ${code} in ${took}`);
      }
      resolve(code ?? undefined);
    });
  });
}
