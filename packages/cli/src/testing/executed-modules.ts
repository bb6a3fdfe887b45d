import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { SourceMap } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { WRAPPER_HEAD } from "../code-cached-start.js";
import { BIN, type CliResult, runProgram } from "./run-cli.js";

const RUN_BUNDLE = fileURLToPath(new URL("../../dist/bundle/run.cjs", import.meta.url));
const RUN_BUNDLE_MAP = fileURLToPath(new URL("../../dist/run.cjs.map", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/** What {@link executedModules} saw. */
export interface ExecutedModules extends CliResult {
  /** The source modules of which some function ran, relative to the repository (`node_modules/…`, `packages/…`). */
  modules: string[];
}

/**
 * Runs the bin with V8's coverage on and says which of run.cjs's modules ran any code: esbuild
 * keeps a module imported with import() uninitialized until then, so this is what a run paid
 * for beyond compiling (which the code cache mostly saves).
 */
export async function executedModules(args: string[]): Promise<ExecutedModules> {
  const dir = await mkdtemp(join(tmpdir(), "tokend-coverage-"));
  try {
    const result = await runProgram([process.execPath, BIN], args, { env: { NODE_V8_COVERAGE: dir } });
    const [text, map] = await Promise.all([
      readFile(RUN_BUNDLE, "utf8"),
      readFile(RUN_BUNDLE_MAP, "utf8").then((t) => new SourceMap(JSON.parse(t))),
    ]);
    const lineStarts = [0];
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lineStarts.push(i + 1);
    const modules = new Set<string>();
    for (const file of await readdir(dir)) {
      const { result: scripts } = JSON.parse(await readFile(join(dir, file), "utf8")) as V8Coverage;
      for (const script of scripts.filter((s) => s.url.endsWith("/dist/bundle/run.cjs"))) {
        for (const fn of script.functions) {
          const range = fn.ranges[0];
          if (!range || range.count === 0) continue;
          const offset = range.startOffset - WRAPPER_HEAD.length; // V8 counts from the wrapper's start
          if (offset < 0) continue; // the wrapper itself
          const line = upperBound(lineStarts, offset) - 1;
          const entry = map.findEntry(line, offset - (lineStarts[line] ?? 0)) as { originalSource?: string };
          if (entry.originalSource)
            modules.add(relative(ROOT, resolve(dirname(RUN_BUNDLE), entry.originalSource)));
        }
      }
    }
    return { ...result, modules: [...modules].sort() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What NODE_V8_COVERAGE writes. */
interface V8Coverage {
  result: Array<{
    url: string;
    functions: Array<{ ranges: Array<{ startOffset: number; count: number }> }>;
  }>;
}

/** The index of the first element of sorted `xs` greater than `x`. */
function upperBound(xs: number[], x: number): number {
  let [lo, hi] = [0, xs.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] ?? 0) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
