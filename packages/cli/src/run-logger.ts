import type { Logger, LogLevel } from "@luci-machine-tokend/core";
import { escapeForLog, MAX_MESSAGE_TEXT } from "@luci-machine-tokend/core/internal";

/** Longest logged message: an error body with the words around it. */
const MAX_LINE = MAX_MESSAGE_TEXT;

/** A logger that keeps every line for the status file's `log_dump` and forwards it to a sink. */
export interface RunLogger extends Logger {
  /** `"\nDUMP LOG:\n"` then `  <level>: <message>\n` per line, or `""` when nothing was logged. */
  dump(): string;
}

/**
 * Creates a run logger; `sink` receives each line as it is logged (stderr in the CLI). Every
 * message is escaped to one printable line (outside text is escaped where it enters messages too;
 * escaping twice changes nothing), so no message can forge a log line or drive a terminal.
 */
export function createRunLogger(sink: (level: LogLevel, message: string) => void = () => {}): RunLogger {
  const lines: string[] = [];
  return {
    log(level, raw) {
      const message = escapeForLog(raw, MAX_LINE);
      lines.push(`  ${level}: ${message}\n`);
      sink(level, message);
    },
    dump: () => (lines.length === 0 ? "" : `\nDUMP LOG:\n${lines.join("")}`),
  };
}

/**
 * Formats a line like Go's gologger: `[<L><RFC 3339 time, µs> <pid> 0 tokend] <message>`, e.g.
 * `[I2026-11-28T17:55:56.123000Z 4242 0 tokend] Token is good`. The message is escaped to one
 * printable line whatever logger it came through.
 */
export function formatGoLogLine(level: LogLevel, message: string, now: Date, pid: number): string {
  const letter = { debug: "D", info: "I", warning: "W", error: "E" }[level];
  const time = now.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
  return `[${letter}${time} ${pid} 0 tokend] ${escapeForLog(message, MAX_LINE)}`;
}
