import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  type Stats,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Script } from "node:vm";
import { restoreV8FlagDefaults } from "./short-run-v8-flags.js";

/**
 * How the bin starts (BENCHMARKS.md, round 3): the tokend run as one CommonJS file (`run.cjs`),
 * compiled with the V8 code cache the build trained on a refresh (`run.cjs.cache`). Node 20 has
 * no compile cache for ES modules; with this one V8 deserializes the functions a run calls
 * instead of parsing and compiling them: ~50 ms less CPU for an HTTPS refresh, ~5 ms when the
 * token is good (BENCHMARKS.md). The subcommands stay ES modules (dist/bundle/commands), imported when named.
 */

/** The file names, in dist/bundle. */
export const RUN_BUNDLE = "run.cjs";
export const RUN_CODE_CACHE = "run.cjs.cache";

/** A code cache larger than this is not read (the trained one is ~0.5 MiB). */
const MAX_CODE_CACHE_BYTES = 16 << 20;

/**
 * The code cache beside the bundle, or undefined when it is absent or not to be trusted. V8
 * runs what a cache holds, so it must be as trusted as the code: a regular file (no symlink
 * followed, no FIFO waited on) of the bundle's owner, writable by no one the bundle is not.
 */
export function readCodeCache(path: string, bundle: Pick<Stats, "uid" | "mode">): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    const writableByOthers = info.mode & 0o022 & ~bundle.mode;
    if (!info.isFile() || info.uid !== bundle.uid || writableByOthers || info.size > MAX_CODE_CACHE_BYTES) {
      return undefined;
    }
    const bytes = Buffer.allocUnsafe(info.size);
    let length = 0;
    while (length < bytes.length) {
      const n = readSync(fd, bytes, length, bytes.length - length, length);
      if (n === 0) break;
      length += n;
    }
    return bytes.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * Node's CommonJS wrapper, plus `__tokendImportEsm`: the subcommands are ES modules, and code
 * compiled through node:vm may not import() on Node 20 without a flag or an ExperimentalWarning
 * (vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER), so run.cjs imports them through this file.
 */
export const WRAPPER_HEAD =
  "(function (exports, require, module, __filename, __dirname, __tokendImportEsm) { ";
const WRAPPER_TAIL = "\n})";

/** The run bundle, compiled; `cacheAccepted` says whether V8 took the code cache. */
export interface CompiledRunBundle {
  script: Script;
  path: string;
  cacheAccepted: boolean;
}

/** Compiles `dir/run.cjs` as Node compiles a CommonJS module, with its code cache when V8 takes it. */
export function compileRunBundle(dir: string): CompiledRunBundle {
  const path = join(dir, RUN_BUNDLE);
  const fd = openSync(path, "r");
  let source: string;
  let info: Stats;
  try {
    info = fstatSync(fd);
    source = readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
  const cachedData = readCodeCache(join(dir, RUN_CODE_CACHE), info);
  const script = new Script(`${WRAPPER_HEAD}${source}${WRAPPER_TAIL}`, { filename: path, cachedData });
  return { script, path, cacheAccepted: cachedData !== undefined && !script.cachedDataRejected };
}

/** Options of {@link startRunBundle}. */
export interface StartRunBundleOptions {
  /** dist/bundle. */
  dir: string;
  /** The build's training run: where to write the code cache as the process exits. */
  writeCacheTo?: string;
}

/** Runs the CLI from the run bundle (see the file's comment); it reads process.argv itself. */
export function startRunBundle(options: StartRunBundleOptions): { cacheAccepted: boolean } {
  const { script, path, cacheAccepted } = compileRunBundle(options.dir);
  const { writeCacheTo } = options;
  if (writeCacheTo) {
    // At exit, the cache holds every function the run compiled, not only the top level. V8
    // stamps it with its flags of the moment: put back those a run starts with (a refresh
    // changed them, short-run-v8-flags.ts).
    process.once("exit", () => {
      restoreV8FlagDefaults();
      writeFileSync(writeCacheTo, script.createCachedData(), { flag: "wx", mode: 0o644 });
    });
  }
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} };
  const importEsm = (url: string) => import(url);
  wrapper.call(module.exports, module.exports, createRequire(path), module, path, dirname(path), importEsm);
  return { cacheAccepted };
}
