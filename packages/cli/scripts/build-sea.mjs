// `npm run sea`: the CLI as one file that runs without Node installed, as the Go binary does: a Node
// single executable application (a copy of this node binary with the CLI injected into it), written
// to dist-sea/luci_machine_tokend-<platform>-<arch> beside THIRD-PARTY-LICENSES.txt.
//
//   node packages/cli/scripts/build-sea.mjs [--out FILE] [--no-code-cache] [--if-supported]
//
// --if-supported (npm test, npm run bench): on a platform or node that cannot build it, say so and
// exit 0; the e2e project and the bench rows of the executable are then left out.
//
// Steps: bundle.mjs --cjs (the CLI as one CommonJS script: Node 20 runs no ES module as the main
// script of a single executable), `node --experimental-sea-config` (the blob), then postject copies
// the blob into a copy of process.execPath and flips the fuse that tells node to run it.
// Needs `npm run build` first (bundle.mjs reads packages/cli/dist).
import { execFileSync, spawnSync } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";

const here = new URL("..", import.meta.url).pathname;
const root = resolve(here, "../..");
/** The string postject looks for in node to mark that a blob was injected (Node's SEA docs). */
const FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

const argv = process.argv.slice(2);
const outAt = argv.indexOf("--out");
const out = resolve(
  outAt >= 0
    ? (argv[outAt + 1] ?? "")
    : join(root, "dist-sea", `luci_machine_tokend-${process.platform}-${process.arch}`),
);

/** A build failure: one line (plus the failing step's output), exit code 1. */
function fail(message) {
  throw new Error(message);
}

// Only ELF is set up: macOS needs postject's Mach-O segment and re-signing, Windows a PE signature.
const unsupported =
  process.platform !== "linux"
    ? `single executables are built on Linux only (this is ${process.platform})`
    : process.config.variables.single_executable_application
      ? undefined
      : `${process.execPath} (node ${process.version}) was built without single executable support`;

try {
  if (unsupported === undefined) await buildSea();
  else if (argv.includes("--if-supported")) console.log(`build-sea: skipped: ${unsupported}`);
  else fail(unsupported);
} catch (err) {
  console.error(`build-sea: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}

async function buildSea() {
  const started = performance.now();
  await mkdir(dirname(out), { recursive: true });
  // Built next to the output, so the finished file is renamed into place (never half-written there).
  const work = await mkdtemp(join(dirname(out), ".build-sea-"));
  try {
    execFileSync(process.execPath, [join(here, "scripts/bundle.mjs"), "--cjs", join(work, "main.cjs")], {
      stdio: "inherit",
    });
    const config = {
      main: "main.cjs",
      output: "sea.blob",
      disableExperimentalSEAWarning: true,
      // V8's code cache of the script, made at build time: starts ~20% faster (BENCHMARKS.md). Not
      // "useSnapshot": a startup snapshot of the loaded CLI (an 8.7 MB blob) started no faster.
      useCodeCache: !argv.includes("--no-code-cache"),
    };
    await writeFile(join(work, "sea-config.json"), JSON.stringify(config));
    quiet(process.execPath, ["--experimental-sea-config", "sea-config.json"], work);
    const exe = join(work, basename(out));
    await copyFile(process.execPath, exe);
    await chmod(exe, 0o755);
    const postject = createRequire(import.meta.url).resolve("postject/dist/cli.js");
    quiet(process.execPath, [postject, exe, "NODE_SEA_BLOB", "sea.blob", "--sentinel-fuse", FUSE], work);

    // The CLI must start from the file alone: its -version is the package's.
    const { version } = JSON.parse(await readFile(join(here, "package.json"), "utf8"));
    const said = quiet(exe, ["-version"], "/").trim();
    if (said !== version) fail(`the built file says -version ${JSON.stringify(said)}, not ${version}`);

    await writeLicences(work, out);
    // A copy, not the file postject wrote in one 100 MB write: Linux caches such a file in large
    // folios, and every run of it would then map, and count in its RSS, ~14 MiB more of it.
    await copyFile(exe, join(work, "copy"));
    await rename(join(work, "copy"), out);
    const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);
    const [file, blob] = await Promise.all([stat(out), stat(join(work, "sea.blob"))]);
    console.log(
      `${relative(process.cwd(), out).startsWith("..") ? out : relative(process.cwd(), out)}: ${mib(file.size)} MiB (node ${process.version} and a ` +
        `${mib(blob.size)} MiB blob${config.useCodeCache ? " with code cache" : ""}), ` +
        `built in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * THIRD-PARTY-LICENSES.txt and the project's LICENSE beside the executable: the bundled packages'
 * notices (bundle.mjs wrote them) after node's own, found where node installs it, else linked.
 */
async function writeLicences(work, out) {
  const rule = "-".repeat(100);
  const bundled = await readFile(join(work, "THIRD-PARTY-LICENSES.txt"), "utf8");
  const title = `node@${process.version.slice(1)}: MIT and the licences of its dependencies`;
  let node = `${title}\n${rule}\n\nhttps://github.com/nodejs/node/blob/${process.version}/LICENSE`;
  for (const file of [
    join(dirname(process.execPath), "../share/doc/node/LICENSE"),
    "/usr/share/doc/nodejs/LICENSE",
  ]) {
    const text = await readFile(file, "utf8").catch(() => "");
    if (text.startsWith("Node.js is licensed")) {
      node = `${title}\n${rule}\n\n${text.trim()}`;
      break;
    }
  }
  const text = [
    `Third-party software in ${basename(out)} (a copy of node ${process.version} with the CLI bundled in it).`,
    "The full text of the Apache License 2.0 is the LICENSE file beside this one.",
    "",
    `${rule}\n${node}\n`,
    bundled.slice(bundled.indexOf(rule)),
  ].join("\n");
  await writeFile(join(dirname(out), "THIRD-PARTY-LICENSES.txt"), text);
  await copyFile(join(root, "LICENSE"), join(dirname(out), "LICENSE"));
}

/**
 * Runs a build step and returns its stdout; its output is shown only when it fails (postject's
 * LIEF prints "Can't find string offset for section name '.note'" for node's ELF notes, harmlessly).
 */
function quiet(command, args, cwd) {
  const r = spawnSync(command, args, { cwd, encoding: "utf8" });
  if (r.status !== 0)
    fail(
      `${basename(command)} ${args.join(" ")} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}${r.stderr}`,
    );
  return r.stdout;
}
