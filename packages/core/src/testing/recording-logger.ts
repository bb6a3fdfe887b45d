import type { Logger, LogLevel } from "../common/logger.js";

/** A Logger that keeps every line. */
export interface RecordingLogger extends Logger {
  lines: Array<{ level: LogLevel; message: string }>;
  /** The messages logged at `level`. */
  at(level: LogLevel): string[];
}

/** Makes a Logger that records what it is told. */
export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger["lines"] = [];
  return {
    lines,
    log(level, message) {
      lines.push({ level, message });
    },
    at: (level) => lines.filter((l) => l.level === level).map((l) => l.message),
  };
}
