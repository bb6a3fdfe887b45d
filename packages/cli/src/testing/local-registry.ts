import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { until } from "../../../core/src/testing/until.js";

/** A Verdaccio npm registry on loopback that serves only what is published to it (no uplinks). */
export interface LocalRegistry {
  /** `http://127.0.0.1:<port>/`. */
  url: string;
  /**
   * Environment for npm and npx as a new user of this registry: their own HOME, npm cache and
   * config (nothing from the machine's), and the credentials to publish.
   */
  env: Record<string, string>;
  /** Publishes a tarball `npm pack` made of `manifest`, as `npm publish` would, without an npm process. */
  publishTarball(manifest: { name: string; version: string }, tarball: string): Promise<void>;
  /** Stops Verdaccio; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Runs in the child: starts Verdaccio on a free loopback port, prints that port, and exits when its
 * stdin closes, so it ends with the test process even if that one is killed. Verdaccio's
 * programmatic API (not its CLI) because only it can listen on port 0 and tell the port.
 */
const CHILD = `
const { runServer } = require(process.argv[1]);
runServer(process.argv[2]).then(
  (app) => app.listen(0, "127.0.0.1", () => process.stdout.write("port " + app.address().port + "\\n")),
  (err) => { console.error(err); process.exit(1); },
);
process.stdin.on("end", () => process.exit(0)).resume();
`;

const USER = "tokend-test";

/** Starts Verdaccio with its config, storage, npm HOME and cache in `dir` (which must exist). */
export async function startLocalRegistry(dir: string): Promise<LocalRegistry> {
  const password = randomBytes(16).toString("hex");
  const sha1 = createHash("sha1").update(password).digest("base64");
  await writeFile(join(dir, "htpasswd"), `${USER}:{SHA}${sha1}\n`);
  // JSON is YAML. No uplinks: a package not published here is a 404, never fetched from elsewhere.
  const config = {
    storage: join(dir, "storage"),
    auth: { htpasswd: { file: join(dir, "htpasswd"), max_users: -1 } },
    uplinks: {},
    packages: { "**": { access: "$all", publish: "$authenticated" } },
    web: { enable: false },
    log: { type: "stderr", format: "pretty", level: "error" },
  };
  await writeFile(join(dir, "verdaccio.yaml"), JSON.stringify(config));
  const verdaccio = createRequire(import.meta.url).resolve("verdaccio");
  const child = spawn(process.execPath, ["-e", CHILD, verdaccio, join(dir, "verdaccio.yaml")], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const close = () => stop(child);
  try {
    const url = `http://127.0.0.1:${await portOf(child)}/`;
    const ping = await fetch(`${url}-/ping`);
    if (!ping.ok) throw new Error(`Verdaccio: GET /-/ping answered ${ping.status}`);
    const auth = Buffer.from(`${USER}:${password}`).toString("base64");
    const home = join(dir, "home");
    await mkdir(home);
    await writeFile(join(home, ".npmrc"), `//127.0.0.1:${new URL(url).port}/:_auth=${auth}\n`);
    const env = {
      HOME: home,
      npm_config_userconfig: join(home, ".npmrc"),
      npm_config_globalconfig: join(dir, "no-global-npmrc"),
      npm_config_cache: join(dir, "npm-cache"),
      npm_config_registry: url,
    };
    const publishTarball = (manifest: { name: string; version: string }, tarball: string) =>
      putPackage(url, auth, manifest, tarball);
    return { url, env, publishTarball, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Waits for the child's `port N` line; fails with its stderr if it exits first. */
async function portOf(child: ChildProcess): Promise<number> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d;
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d).slice(-4096);
  });
  const port = () => /^port (\d+)$/m.exec(stdout)?.[1];
  await until(() => port() !== undefined || child.exitCode !== null, 30_000).catch(() => {});
  if (port() === undefined) throw new Error(`Verdaccio did not start (exit ${child.exitCode}): ${stderr}`);
  return Number(port());
}

/** Closes the child's stdin (it exits); SIGKILL if it has not within 5 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.stdin?.end();
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The registry's publish request (what npm's libnpmpublish sends): the version's manifest with its
 * dist hashes, and the tarball attached. Each `npm publish` process costs ~1 s of CPU; mirroring
 * dependencies does not need npm's checks, so it skips them.
 */
async function putPackage(
  url: string,
  auth: string,
  manifest: { name: string; version: string },
  tarball: string,
): Promise<void> {
  const { name, version } = manifest;
  const bytes = await readFile(tarball);
  const attachment = `${name}-${version}.tgz`; // npm's name for it, scope included
  const body = {
    _id: name,
    name,
    "dist-tags": { latest: version },
    versions: {
      [version]: {
        ...manifest,
        _id: `${name}@${version}`,
        dist: {
          integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
          shasum: createHash("sha1").update(bytes).digest("hex"),
          tarball: `${url}${name}/-/${attachment}`,
        },
      },
    },
    _attachments: {
      [attachment]: {
        content_type: "application/octet-stream",
        data: bytes.toString("base64"),
        length: bytes.length,
      },
    },
  };
  const res = await fetch(`${url}${name.replace("/", "%2f")}`, {
    method: "PUT",
    headers: { authorization: `Basic ${auth}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`publishing ${name}@${version}: ${res.status} ${await res.text()}`);
}
