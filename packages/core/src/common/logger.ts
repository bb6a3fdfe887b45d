/** Severity of a log line; the names are those of LUCI's logging levels and of `log_dump`. */
export type LogLevel = "debug" | "info" | "warning" | "error";

/** Where core reports what it does. Inject one; the default drops everything. */
export interface Logger {
  /** Logs one message at a level. Messages never contain tokens or key material. */
  log(level: LogLevel, message: string): void;
}

/** A logger that discards every line (the default for library calls). */
export const silentLogger: Logger = { log() {} };
