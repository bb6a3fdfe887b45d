import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** The workspace root. */
export const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/** One tarball `npm pack` wrote, as npm describes it. */
export interface PackedTarball {
  name: string;
  version: string;
  /** Absolute path of the .tgz. */
  path: string;
  /** Paths inside the package (`package.json`, `dist/index.js`, …). */
  files: string[];
  /** Bytes of the .tgz and of its unpacked files. */
  size: number;
  unpackedSize: number;
}

/** Throws unless `npm run build` made what the packages ship. */
export function requireBuild(): void {
  if (!existsSync(join(ROOT, "packages/cli/dist/bundle/cli.js"))) {
    throw new Error("packages are not built: run `npm run build` first");
  }
}

/**
 * Packs workspaces from what `npm run build` made. Their prepack script (a build) is skipped: it
 * would replace the bundle under the CLI tests that run beside this one.
 */
export async function packWorkspaces(workspaces: string[], dest: string): Promise<PackedTarball[]> {
  requireBuild();
  return pack(
    workspaces.flatMap((w) => ["-w", w]),
    dest,
  );
}

/** Packs installed packages (folders under node_modules), e.g. to publish them to a local registry. */
export function packDirectories(dirs: string[], dest: string): Promise<PackedTarball[]> {
  return pack(dirs, dest);
}

async function pack(what: string[], dest: string): Promise<PackedTarball[]> {
  const out = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", dest, ...what], ROOT);
  const packed = JSON.parse(out) as Array<{
    name: string;
    version: string;
    filename: string;
    size: number;
    unpackedSize: number;
    files: Array<{ path: string }>;
  }>;
  return packed.map((p) => ({
    name: p.name,
    version: p.version,
    path: join(dest, p.filename),
    files: p.files.map((f) => f.path),
    size: p.size,
    unpackedSize: p.unpackedSize,
  }));
}

/**
 * The folders of the packages a workspace needs at run time, its dependencies and theirs, found as
 * Node finds them (the nearest node_modules up from the one that needs it) in package-lock.json.
 */
export async function lockedDependencies(workspace: string): Promise<string[]> {
  type Locked = { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
  const lock = JSON.parse(await readFile(join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, Locked>;
  };
  const found = new Set<string>();
  const visit = (from: string) => {
    const { dependencies = {}, optionalDependencies = {} } = lock.packages[from] ?? {};
    for (const name of Object.keys({ ...dependencies, ...optionalDependencies })) {
      let dir = from;
      while (lock.packages[`${dir}/node_modules/${name}`.replace(/^\//, "")] === undefined && dir !== "")
        dir = dir.includes("/node_modules/") ? dir.slice(0, dir.lastIndexOf("/node_modules/")) : "";
      const path = `${dir}/node_modules/${name}`.replace(/^\//, "");
      if (lock.packages[path] === undefined)
        throw new Error(`${from} needs ${name}: not in package-lock.json`);
      if (found.has(path)) continue;
      found.add(path);
      visit(path);
    }
  };
  visit(workspace);
  return [...found].map((path) => join(ROOT, path));
}

/**
 * Runs npm as a new user would: none of the `npm_*` variables of an `npm test` around this process,
 * the registry reachable, the user's npm cache reused (`--prefer-offline`).
 */
export async function npm(args: string[], cwd: string): Promise<string> {
  return (await npmRun(args, cwd)).stdout;
}

/** Runs `command` (npm or npx) as {@link npm} does, with `env` on top; rejects if it fails. */
export async function npmRun(
  args: string[],
  cwd: string,
  { env = {}, command = "npm" }: { env?: Record<string, string>; command?: "npm" | "npx" } = {},
): Promise<{ stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return promisify(execFile)(command, args, {
    cwd,
    env: {
      ...clean,
      npm_config_update_notifier: "false",
      npm_config_fund: "false",
      npm_config_audit: "false",
      ...env,
    },
    maxBuffer: 64 << 20,
  });
}

/** `npm install --prefer-offline` of tarballs into a project, or globally with `--prefix`. */
export function npmInstall(tarballs: string[], cwd: string, prefix?: string): Promise<string> {
  const global = prefix === undefined ? [] : ["-g", "--prefix", prefix];
  return npm(["install", ...global, "--prefer-offline", "--loglevel=error", ...tarballs], cwd);
}

/** The `name@version` of every package installed under a node_modules folder, nested ones too. */
export async function installedPackages(nodeModules: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      if (entry.name.startsWith("@")) {
        await visit(path);
        continue;
      }
      const text = await readFile(join(path, "package.json"), "utf8").catch(() => undefined);
      if (text === undefined) continue;
      const pkg = JSON.parse(text) as { name: string; version: string };
      found.push(`${pkg.name}@${pkg.version}`);
      await visit(join(path, "node_modules"));
    }
  };
  await visit(nodeModules);
  return found.sort();
}

/** Module specifiers of a file: `import … from "x"`, `export … from "x"`, `import "x"`, `import("x")`. */
export function importsOf(source: string): string[] {
  const statement = /(?:^|[\s;])(?:import|export)\s*(?:[\w*{][^"'`;]*?\bfrom\s*)?["']([^"']+)["']/gm;
  const dynamic = /\bimport\(\s*["']([^"']+)["']\s*\)/g;
  return [...source.matchAll(statement), ...source.matchAll(dynamic)].map((m) => m[1] ?? "");
}
