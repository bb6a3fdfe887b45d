import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Makes a fresh directory under the OS temp dir; `remove()` deletes it and everything in it. */
export async function makeTempDir(): Promise<{
  dir: string;
  path(name: string): string;
  remove(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), "tokend-core-test-"));
  return {
    dir,
    path: (name) => join(dir, name),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
