import { lstat, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { errnoCode } from "@luci-machine-tokend/core/internal";

/**
 * Makes `dir` and its missing parents with mode 0700 (before the umask), as Go's
 * MkdirAll(dir, 0700). One level at a time: Node's recursive mkdir never returns where the kernel
 * answers ENOENT to mkdir (under /proc). An existing directory is left as it is.
 */
export async function makePrivateDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    const exists = await lstat(d).then(
      () => true,
      (err: unknown) => {
        if (errnoCode(err) === "ENOENT" && dirname(d) !== d) return false;
        throw err;
      },
    );
    if (exists) break;
    missing.unshift(d);
  }
  for (const d of missing) {
    await mkdir(d, { mode: 0o700 }).catch((err: unknown) => {
      if (errnoCode(err) !== "EEXIST") throw err;
    });
  }
}
