import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The built bin, as `npx luci-machine-tokend` runs it (tests need `npm run build` first). */
export const BIN = fileURLToPath(new URL("../../bin/luci-machine-tokend.js", import.meta.url));
/** The CLI as ES modules (dist/bundle/cli.js), the chunks the package's library entry shares. */
export const ESM_CLI = fileURLToPath(new URL("../../dist/bundle/cli.js", import.meta.url));

/** What a CLI child process did. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  env?: Record<string, string | undefined>;
  /** Called once the child is running, e.g. to signal it. */
  onSpawn?: (child: ReturnType<typeof spawn>) => void;
  /** Prefix the command, e.g. `["setpriv", "--reuid=65534", …]`. */
  wrapper?: string[];
  cwd?: string;
}

/**
 * The CLI the e2e tests run: the built bin under this node, or the program at `TOKEND_CLI` (the
 * single executable from `npm run sea`; vitest.config.ts sets it for its "single executable" project).
 */
export const CLI: readonly string[] = process.env.TOKEND_CLI
  ? [process.env.TOKEND_CLI]
  : [process.execPath, BIN];

/** Runs the real CLI in a child process. */
export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  return runProgram([...CLI], args, options);
}

/** Runs `program` (a command and its first arguments) with `args` in a child process. */
export function runProgram(
  program: string[],
  args: string[],
  options: RunCliOptions = {},
): Promise<CliResult> {
  const started = performance.now();
  const [command = "", ...argv] = [...(options.wrapper ?? []), ...program, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d;
    });
    child.once("error", reject);
    child.once("close", (code, signal) =>
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started }),
    );
    options.onSpawn?.(child);
  });
}
