import { open, rename } from "node:fs/promises";
import { relative } from "node:path";
import type { AtomicWriteFs, AtomicWriteHandle } from "../safe-files/atomic-write.js";

/**
 * The real file operations of atomic writes in `dir`, recording each step in `events` as
 * `"<step> <name>"` (open, write, sync, close, rename): `dir` itself shows as "dir", a temp file
 * (`….tmp`) as "temp", any other path relative to `dir`. The steps inside `writeNewFile` and
 * `syncDirectory` are seen because their defaults open through `open`.
 */
export function recordingAtomicFs(events: string[], dir: string): Pick<AtomicWriteFs, "open" | "rename"> {
  const name = (path: string) =>
    path === dir ? "dir" : path.endsWith(".tmp") ? "temp" : relative(dir, path);
  return {
    async open(path, flags, mode) {
      const handle = await open(path, flags, mode);
      const shown = name(path);
      events.push(`open ${shown}`);
      const step = async (what: string, run: () => Promise<void>) => {
        events.push(`${what} ${shown}`);
        await run();
      };
      const recorded: AtomicWriteHandle = {
        writeFile: (data) => step("write", () => handle.writeFile(data)),
        sync: () => step("sync", () => handle.sync()),
        close: () => step("close", () => handle.close()),
      };
      return recorded;
    },
    async rename(from, to) {
      events.push(`rename ${name(from)} ${name(to)}`);
      await rename(from, to);
    },
  };
}

/**
 * The steps {@link recordingAtomicFs} records for one durable replacement of `name`: the temp
 * file written, fsynced and closed, renamed over `name`, then the directory fsynced.
 */
export function durableWriteOf(name: string): string[] {
  return [
    "open temp",
    "write temp",
    "sync temp",
    "close temp",
    `rename temp ${name}`,
    "open dir",
    "sync dir",
    "close dir",
  ];
}
