import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { CLI } from "./run-cli.js";

/** `luci-machine-tokend dev-server` running in its own process, so its memory can be read. */
export interface DevServerProcess {
  pid: number;
  /** `host:port` of the HTTP/1.1 listener. */
  backend: string;
  /** `http://host:port` of the HTTP/2 listener. */
  grpcUrl: string;
  /** Its resident set size now, in MiB (Linux: /proc/PID/status VmRSS). */
  rssMiB(): number;
  /** SIGTERM, then waits for it to exit; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts the built CLI's dev server (`npm run build` first) with `args` added to `--quiet`, and
 * resolves once it prints its addresses. Standard error passes through, for a crash's message.
 */
export function startDevServerProcess(args: string[]): Promise<DevServerProcess> {
  const [command = "", ...first] = CLI;
  const child = spawn(command, [...first, "dev-server", "--quiet", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = "";
    child.once("error", reject);
    void exited.then((code) => reject(new Error(`dev-server exited with ${code} before listening: ${out}`)));
    child.stdout.on("data", (d: Buffer) => {
      out += d;
      const m = /listening on (\S+) .*\(h2c\) on (\S+)/.exec(out);
      if (!m?.[1] || !m[2] || child.pid === undefined) return;
      const pid = child.pid;
      resolve({
        pid,
        backend: m[1],
        grpcUrl: `http://${m[2]}`,
        rssMiB: () =>
          Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024,
        stop: () => {
          child.kill("SIGTERM");
          return exited;
        },
      });
    });
  });
}
