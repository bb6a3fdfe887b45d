import { stat } from "node:fs/promises";
import type { Logger } from "../common/logger.js";

/**
 * Warns when the private key can be read by group or others: the key proves the machine's
 * identity, and the bot that reads the token should not be able to read it (LUCI's guidance is to
 * run tokend as a user the bot is not). Windows modes say nothing about ACLs, so it is skipped.
 */
export async function warnIfKeyIsExposed(
  keyPath: string,
  logger: Logger,
  platform = process.platform,
): Promise<void> {
  if (platform === "win32") return;
  try {
    const mode = (await stat(keyPath)).mode & 0o777;
    if (mode & 0o077) {
      const octal = mode.toString(8).padStart(4, "0");
      logger.log(
        "warning",
        `The private key ${keyPath} is readable by group or others (mode ${octal}); chmod 600 it`,
      );
    }
  } catch {
    // The key was just read; a stat failure here is not worth a line.
  }
}
