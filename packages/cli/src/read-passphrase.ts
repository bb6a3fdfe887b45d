import { fsErrorReason, readCapped } from "@luci-machine-tokend/core/internal";

const MAX_PASSPHRASE_BYTES = 64 * 1024;

/** The passphrase in `path` (one trailing newline dropped), read as every file a run reads; the error names the flag. */
export async function readPassphrase(path: string): Promise<string> {
  try {
    return new TextDecoder().decode(await readCapped(path, MAX_PASSPHRASE_BYTES)).replace(/\r?\n$/, "");
  } catch (err) {
    throw new Error(`-pkey-passphrase-file ${path}: ${fsErrorReason(err)}`, { cause: err });
  }
}
