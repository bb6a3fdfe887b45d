import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { isSea } from "node:sea";
import { fileURLToPath } from "node:url";
import { verifyMachineToken } from "@luci-machine-tokend/core";
import { errorMessage, escapeForLog, formatGoDuration } from "@luci-machine-tokend/core/internal";
import { createTestPki, type DevServer, startDevServer } from "@luci-machine-tokend/dev-server";
import type { CliIo } from "../cli-io.js";
import { commandLine, shellWord } from "../command-line.js";
import { makeDemoDir } from "./demo-dir.js";
import {
  DEMO_SERVICE_ACCOUNT,
  type DemoMonitoring,
  demoMonitoring,
  receivedMetricLines,
  writeDemoKey,
  writeNewFile,
} from "./demo-monitoring.js";
import { inspectTokenFile } from "./inspect.js";

/** Where luci-go's token cache is under the child's HOME. */
const CACHE_FILE = ".config/chrome_infra/auth/tokens.json";
/** The demo machine's name, in the demo server's only domain. */
const DEMO_FQDN = "demo-bot.example.com";
/** A fixed port keeps the backend string, and so the inputs digest, the same from run to run. */
const DEMO_PORT = 18_920;
/** The CLI's bin, from the sources (src/commands) or from the bundle (dist/bundle/chunks). */
const BIN = ["../../bin/luci-machine-tokend.js", "../../../bin/luci-machine-tokend.js"]
  .map((p) => fileURLToPath(new URL(p, import.meta.url)))
  .find((p) => existsSync(p));

/**
 * `demo` (what `npm start` runs): the whole job on loopback. Starts the dev token server with a
 * demo CA, and its stand-ins for ProdX and Google's OAuth token endpoint; makes a demo machine key
 * and certificate and a ts-mon service-account key once (in `.tokend-demo/`); runs the real CLI
 * against them as a child process (pRPC to the token server, its metrics pushed to ProdX with an
 * OAuth token), and shows the outcome, the token and the metrics ProdX received. Run it again and
 * the token is still good: no RPC is made, and the metrics go out with the cached OAuth token.
 */
export async function run(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    io.stdout(
      "luci-machine-tokend demo [--dir DIR]\n\nRuns the tokend end to end against a local token server.\n",
    );
    return 0;
  }
  const dirFlag = argv.indexOf("--dir");
  let dir: string;
  let files: DemoFiles;
  let monitoring: DemoMonitoring;
  try {
    dir = await makeDemoDir(dirFlag >= 0 ? (argv[dirFlag + 1] ?? ".tokend-demo") : ".tokend-demo");
    [files, monitoring] = await Promise.all([demoFiles(dir), demoMonitoring(dir)]);
  } catch (err) {
    io.stderr(`luci-machine-tokend demo: ${escapeForLog(errorMessage(err))}\n`);
    return 1;
  }
  const server = await startDemoServer(files.caCertPem, dir, monitoring);
  try {
    const backend = server.backend;
    const prodx = server.prodx?.endpoint ?? "";
    const oauth = server.google.oauth;
    await writeDemoKey(monitoring, oauth?.tokenUri ?? "");
    const show = (p: string) => relative(process.cwd(), p) || p;
    io.stdout(
      [
        `luci-machine-tokend demo: everything on loopback, files in ${show(dir)}/`,
        `  token server  dev server at ${backend} (pRPC), CA "${files.caName}", domain example.com, 1h tokens`,
        `  machine       ${DEMO_FQDN} (key ${show(files.keyPath)}, certificate ${show(files.certPath)})`,
        `  metrics       ProdX stand-in at ${prodx} (gRPC over TLS), OAuth token endpoint ${oauth?.tokenUri}`,
        `                for ${DEMO_SERVICE_ACCOUNT} (key ${show(monitoring.keyFile)}); their TLS CA is ${show(monitoring.caFile)}`,
        "",
      ].join("\n"),
    );
    const before = server.requests.length;
    const grantsBefore = oauth?.grants.length ?? 0;
    const args = [
      ...["-backend", backend, "-cert-pem", files.certPath, "-pkey-pem", files.keyPath],
      ...["-token-file", join(dir, "token.json"), "-status-file", join(dir, "status.json")],
      // The flags win over whatever /etc/chrome-infra/ts-mon.json says.
      ...["-ts-mon-endpoint", prodx, "-ts-mon-credentials", monitoring.keyFile],
    ];
    // As Go would: the stand-ins' CA as the system's trust roots (and no SSL_CERT_DIR the user's
    // shell may set); the OAuth token cached under a HOME of the demo's own.
    const env: Record<string, string> = { HOME: monitoring.home, SSL_CERT_FILE: monitoring.caFile };
    if (process.env.SSL_CERT_DIR) env.SSL_CERT_DIR = "";
    const shown = [
      ...Object.entries(env).map(([k, v]) => `${k}=${shellWord(show(v))}`),
      commandLine(["luci-machine-tokend", ...args.map((a) => (a.startsWith("/") ? show(a) : a))]),
    ];
    io.stdout(`$ ${shown.join(" ")}\n`);
    const exitCode = await runChild(args, env, io);
    const rpcs = server.requests.length - before;
    const grants = (oauth?.grants.length ?? 0) - grantsBefore;
    const status = (await readFile(join(dir, "status.json"), "utf8").then(JSON.parse, () => ({}))) as Record<
      string,
      string | number
    >;
    const token = await inspectTokenFile(join(dir, "token.json"), new Date());
    const rows = [
      "",
      `  exit code     ${exitCode}`,
      `  outcome       ${status.update_outcome} (reason ${status.update_reason}), ${rpcs} MintMachineToken RPC${rpcs === 1 ? "" : "s"}`,
    ];
    if (status.failure_error) rows.push(`  error         ${status.failure_error}`);
    if (token.valid) {
      const left = (iso?: string) =>
        iso
          ? `${iso} (in ${formatGoDuration(Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 1000) * 1000))})`
          : "-";
      rows.push(
        `  token         for ${token.machine_fqdn}, issued by ${token.issued_by} at ${token.issued_at}`,
        `  expires       ${left(token.expiry)}`,
        `  next update   ${left(token.next_update)}`,
        `  signature     ${await verifySignature(join(dir, "token.json"), server)}`,
      );
    }
    rows.push(...metricsRows(server, grants, show(join(monitoring.home, CACHE_FILE))));
    if (token.valid) {
      rows.push(
        "",
        rpcs > 0
          ? `Run \`${againCommand(argv)}\` again: the token is still good, so no RPC is made (the metrics still go out).`
          : `The token was still good, so no RPC was made. \`rm -r ${show(dir)}\` starts over.`,
      );
    }
    io.stdout(`${rows.join("\n")}\n`);
    return exitCode;
  } finally {
    await server.close();
  }
}

/** How the user started the demo: `npm start` in the repository, else the installed command. */
function againCommand(argv: string[]): string {
  if (process.env.npm_lifecycle_event === "start") return "npm start";
  return commandLine(["luci-machine-tokend", "demo", ...argv]);
}

interface DemoFiles {
  caCertPem: string;
  caName: string;
  keyPath: string;
  certPath: string;
}

/** The demo CA and machine files, made on the first run and reused after. */
async function demoFiles(dir: string): Promise<DemoFiles> {
  const paths = { ca: join(dir, "ca.pem"), key: join(dir, "key.pem"), cert: join(dir, "cert.pem") };
  const caName = "Demo Machine CA";
  let caCertPem = await readFile(paths.ca, "utf8").catch(() => undefined);
  if (caCertPem === undefined) {
    const pki = await createTestPki({ fqdn: DEMO_FQDN, caCommonName: caName });
    await writeNewFile(paths.key, pki.keyPem, 0o600);
    await writeNewFile(paths.cert, pki.certPem);
    await writeNewFile(paths.ca, pki.caCertPem);
    caCertPem = pki.caCertPem;
  }
  return { caCertPem, caName, keyPath: paths.key, certPath: paths.cert };
}

/**
 * The dev server on the demo port (or any free port if it is taken), with a signing key kept in
 * `dir`, and its stand-ins for ProdX and the OAuth token endpoint (any free ports).
 */
async function startDemoServer(
  caCertPem: string,
  dir: string,
  monitoring: DemoMonitoring,
): Promise<DevServer> {
  const keyPath = join(dir, "server-signing-key.pem");
  const signingKeyPem = await readFile(keyPath, "utf8").catch(() => undefined);
  const options = {
    caCertificates: [caCertPem],
    domains: [{ domain: "example.com", lifetimeMs: 3_600_000 }],
    grpcPort: false as const,
    signingKeyPem,
    ...monitoring.serverOptions,
  };
  let server: DevServer;
  try {
    server = await startDevServer({ ...options, port: DEMO_PORT });
  } catch {
    server = await startDevServer({ ...options, port: 0 });
  }
  if (signingKeyPem === undefined && server.signingKeyPem)
    await writeNewFile(keyPath, server.signingKeyPem, 0o600);
  return server;
}

async function verifySignature(tokenPath: string, server: DevServer): Promise<string> {
  const file = JSON.parse(await readFile(tokenPath, "utf8")) as { luci_machine_token: string };
  const res = await fetch(`${server.url}/auth/api/v1/server/certificates`);
  try {
    const token = await verifyMachineToken(file.luci_machine_token, {
      certificates: await res.json(),
      now: new Date(),
    });
    return `valid, checked with the server's published certificate for key ${token.keyId}`;
  } catch (err) {
    return `NOT valid: ${errorMessage(err)}`;
  }
}

/** This CLI as a command: a single executable is the CLI itself; else node runs the bin. */
function selfCommand(): string[] {
  if (isSea()) return [process.execPath];
  if (BIN === undefined) throw new Error("cannot find bin/luci-machine-tokend.js next to the demo");
  return [process.execPath, BIN];
}

/** What ProdX received from the run, one line per metric, and how the OAuth token was had. */
function metricsRows(server: DevServer, grants: number, cacheFile: string): string[] {
  const insert = server.prodx?.inserts.at(-1);
  if (insert === undefined) return ["  metrics       ProdX received nothing (the run's log says why)"];
  const how =
    grants > 0
      ? `a new OAuth token (${grants} token grant${grants === 1 ? "" : "s"}), cached in ${cacheFile}`
      : `the OAuth token cached in ${cacheFile} (no token grant)`;
  const authorized = insert.authorization?.startsWith("Bearer ") ? how : "no bearer token";
  return [
    `  metrics       ProdX received these, sent with ${authorized}:`,
    ...receivedMetricLines(insert).map((l) => `    ${l}`),
  ];
}

function runChild(args: string[], env: Record<string, string>, io: CliIo): Promise<number> {
  const [command = "", ...first] = selfCommand();
  return new Promise((resolvePromise) => {
    const child = spawn(command, [...first, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    child.stdout.on("data", (d: Buffer) => io.stdout(d.toString()));
    child.stderr.on("data", (d: Buffer) => io.stdout(d.toString()));
    child.once("exit", (code) => resolvePromise(code ?? 1));
  });
}
