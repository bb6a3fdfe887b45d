import { spawn } from "node:child_process";

const MARK = "\u0000loaded ";

/** A resolve hook that reports every module URL the program imports (ES modules), one per line. */
const HOOKS = `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  console.error(${JSON.stringify(MARK)} + resolved.url);
  return resolved;
}`;
const REGISTER = `import { register } from "node:module";
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

/** What {@link loadedModules} saw. */
export interface LoadedModules {
  code: number | null;
  /** Every module imported, as resolved URLs (`node:` built-ins too), in order. */
  urls: string[];
  /** The program's own stderr. */
  stderr: string;
}

/** Runs `node <args>` with a module hook and reports the ES modules it imported. */
export function loadedModules(args: string[], options: { cwd?: string } = {}): Promise<LoadedModules> {
  const register = `data:text/javascript,${encodeURIComponent(REGISTER)}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", register, ...args], {
      cwd: options.cwd,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      const lines = err.split("\n");
      resolve({
        code,
        urls: lines.filter((l) => l.startsWith(MARK)).map((l) => l.slice(MARK.length)),
        stderr: lines.filter((l) => !l.startsWith(MARK)).join("\n"),
      });
    });
  });
}

/** The npm packages among module URLs (`@scope/name` or `name`; the innermost when nested), each once. */
export function packagesOf(urls: string[]): string[] {
  const names = urls.flatMap((u) => {
    const m = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    return m?.[1] ? [m[1]] : [];
  });
  return [...new Set(names)].sort();
}
