import type { Logger, Now } from "@luci-machine-tokend/core";
import { assessToken, encodeTokenFile, holdsTokenFile } from "@luci-machine-tokend/core/internal";
import { tokenUpdateSettings } from "./token-update-settings.js";
import type { ResolvedTokendOptions } from "./tokend-options.js";

/**
 * `-dry-run`: reads and decides like a run and says what it would do, without an RPC or a write.
 * Returns the lines to print and the exit code a real run would start from (1 for a bad key).
 */
export async function dryRun(
  options: ResolvedTokendOptions,
  deps: { now: Now; logger: Logger },
): Promise<{ lines: string[]; exitCode: 0 | 1 }> {
  const a = await assessToken(tokenUpdateSettings(options, deps), undefined);
  if (a.keyError) return { lines: [`CANT_READ_KEY: ${a.keyError.message}`], exitCode: 1 };
  const paths = [options.tokenFile, ...options.tokenFileCopies];
  if (a.reason !== "TOKEN_IS_GOOD" || !a.token) {
    return {
      lines: [
        `${a.reason}: would mint a new token from ${options.backend} over ${options.protocol} and write ${paths.join(", ")}`,
      ],
      exitCode: 0,
    };
  }
  const bytes = encodeTokenFile(a.token, a.state);
  const stale: string[] = [];
  for (const copy of options.tokenFileCopies) {
    // The run's own test, so a dry run and a real run agree on which copies they would write.
    if (!(await holdsTokenFile(copy, bytes))) stale.push(copy);
  }
  const until = new Date(Number(a.token.nextUpdate) * 1000).toISOString();
  if (stale.length > 0)
    return {
      lines: [`MISSING_TOKEN_COPY: the token is good until ${until}; would write ${stale.join(", ")}`],
      exitCode: 0,
    };
  return { lines: [`TOKEN_IS_GOOD: the token is good until ${until}; nothing to do`], exitCode: 0 };
}
