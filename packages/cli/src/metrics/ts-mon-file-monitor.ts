import type { StatusReport } from "@luci-machine-tokend/core";
import { appendToFile, errnoCode } from "@luci-machine-tokend/core/internal";
import { goProtoText, MetricsPayloadSchema } from "@luci-machine-tokend/core/ts-mon";
import { goPathError } from "./go-path-error.js";
import type { TsMonMonitor, TsMonSendDeps } from "./ts-mon-monitor.js";
import { tsMonPayload } from "./ts-mon-payload.js";

/**
 * Go ts-mon's debug monitor (monitor/debug.go), for a `file://` endpoint: the payload in Go's
 * text format is logged at info (`Sending ts_mon metrics:` and the text) and appended to the file
 * if the URL has a path, which is created 0664 (before the umask) when missing. The file is
 * opened as every file we write where others may write (core's appendToFile): never through
 * another user's symlink, never a FIFO, never another user's or a hard-linked file.
 *
 * @returns Go's error text when the file could not be written.
 */
export async function sendToFile(
  monitor: Extract<TsMonMonitor, { kind: "file" }>,
  report: StatusReport,
  deps: TsMonSendDeps,
): Promise<{ error?: string }> {
  const text = goProtoText(MetricsPayloadSchema, tsMonPayload(report, monitor.labels, deps.now()));
  // Every string in the text is escaped to printable ASCII, so it may go out as it is.
  if (deps.writeRaw) {
    deps.logger.log("info", "Sending ts_mon metrics:");
    deps.writeRaw(text);
  } else {
    deps.logger.log("info", `Sending ts_mon metrics:\n${text}`);
  }
  if (monitor.path === "") return {};
  try {
    await appendToFile(monitor.path, new TextEncoder().encode(text), 0o664);
    return {};
  } catch (err) {
    const writing = (err as NodeJS.ErrnoException).syscall === "write" && errnoCode(err) !== undefined;
    const error = goPathError(writing ? "write" : "open", monitor.path, err);
    deps.logger.log(
      "error",
      writing
        ? `Failed to write to the file ${monitor.path}: ${error}`
        : `Failed to open file ${monitor.path}: ${error}`,
    );
    return { error };
  }
}
