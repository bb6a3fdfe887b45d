import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compileRunBundle, RUN_BUNDLE, RUN_CODE_CACHE, readCodeCache } from "./code-cached-start.js";
import { SUBCOMMAND_NAMES } from "./subcommand-names.js";

const START = fileURLToPath(new URL("../dist/bundle/start.cjs", import.meta.url));
const BUILT_BUNDLE_DIR = fileURLToPath(new URL("../dist/bundle", import.meta.url));

/** A run bundle that uses what the loader gives it: require, module, __filename and an ES import. */
const BUNDLE = `const { basename } = require("node:path");
module.exports.file = basename(__filename);
__tokendImportEsm("node:os").then((os) => process.stdout.write(basename(__dirname) + " " + typeof os.tmpdir + "\\n"));
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tokend-code-cache-"));
  writeFileSync(join(dir, RUN_BUNDLE), BUNDLE, { mode: 0o644 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs startRunBundle (the built start.cjs) in a child, as the bin does; prints whether V8 took the cache. */
function startInChild(options: { writeCacheTo?: string } = {}) {
  const code = `const r = require(${JSON.stringify(START)}).startRunBundle(${JSON.stringify({
    dir,
    writeCacheTo: options.writeCacheTo,
  })});
process.on("exit", () => process.stderr.write("cacheAccepted=" + r.cacheAccepted));`;
  const r = spawnSync(process.execPath, ["-e", code], { encoding: "utf8" });
  return {
    status: r.status,
    stdout: r.stdout,
    accepted: /cacheAccepted=true$/.test(r.stderr),
    stderr: r.stderr,
  };
}

describe("the bin's start: run.cjs compiled with its code cache", () => {
  it("runs the bundle as a CommonJS module, and takes the cache its own training wrote", () => {
    const cache = join(dir, RUN_CODE_CACHE);
    const first = startInChild({ writeCacheTo: cache });
    expect(first).toMatchObject({
      status: 0,
      stdout: `${dir.split("/").at(-1)} function\n`,
      accepted: false,
    });
    expect(statSync(cache).size).toBeGreaterThan(0);
    expect(startInChild()).toMatchObject({ status: 0, accepted: true });
  });

  it("compiles from source when the cache is damaged or made for other code", () => {
    const cache = join(dir, RUN_CODE_CACHE);
    startInChild({ writeCacheTo: cache });
    const good = readFileSync(cache);
    writeFileSync(cache, Buffer.from(good).fill(0x5a, 16));
    expect(startInChild()).toMatchObject({ status: 0, accepted: false });
    writeFileSync(cache, good);
    writeFileSync(join(dir, RUN_BUNDLE), `${BUNDLE}// changed\n`);
    expect(startInChild()).toMatchObject({ status: 0, accepted: false });
  });

  it("reads no cache that is not as trusted as the code: a symlink, a FIFO, another owner, writable by more", () => {
    const cache = join(dir, RUN_CODE_CACHE);
    const bundle = statSync(join(dir, RUN_BUNDLE));
    writeFileSync(join(dir, "elsewhere"), "cache bytes", { mode: 0o644 });
    symlinkSync(join(dir, "elsewhere"), cache);
    expect(readCodeCache(cache, bundle)).toBeUndefined();
    rmSync(cache);
    execFileSync("mkfifo", [cache]); // opened without blocking, then refused
    expect(readCodeCache(cache, bundle)).toBeUndefined();
    rmSync(cache);
    writeFileSync(cache, "cache bytes", { mode: 0o644 });
    expect(readCodeCache(cache, bundle)?.toString()).toBe("cache bytes");
    expect(readCodeCache(cache, { ...bundle, uid: bundle.uid + 1 })).toBeUndefined();
    chmodSync(cache, 0o664);
    expect(readCodeCache(cache, bundle)).toBeUndefined();
    expect(readCodeCache(cache, { ...bundle, mode: 0o100664 })?.toString()).toBe("cache bytes");
    chmodSync(cache, 0o644);
    truncateSync(cache, 17 << 20); // past the cap
    expect(readCodeCache(cache, bundle)).toBeUndefined();
    expect(readCodeCache(join(dir, "absent"), bundle)).toBeUndefined();
  });

  it("the build's cache is taken by this Node, under the flags a run sets", () => {
    expect(statSync(join(BUILT_BUNDLE_DIR, RUN_CODE_CACHE)).size).toBeGreaterThan(100_000);
    // run.cjs imports each subcommand from the ES module bundle.
    for (const name of SUBCOMMAND_NAMES)
      expect(statSync(join(BUILT_BUNDLE_DIR, "commands", `${name}.js`)).isFile()).toBe(true);
    // Made by a run that refreshed, under the flags a run starts with (V8's own).
    expect(compileRunBundle(BUILT_BUNDLE_DIR).cacheAccepted).toBe(true);
    // Flags are part of a cache's key: under the refresh's, V8 refuses it.
    const code = `require("node:v8").setFlagsFromString("--semi-space-growth-factor=1");
const s = require(${JSON.stringify(START)});
process.stdout.write(String(s.compileRunBundle(${JSON.stringify(BUILT_BUNDLE_DIR)}).cacheAccepted));`;
    expect(execFileSync(process.execPath, ["-e", code], { encoding: "utf8" })).toBe("false");
  });
});
