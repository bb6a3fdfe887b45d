import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeTlsCa } from "../packages/core/src/testing/tls-fixtures.js";
import { type BenchFixture, BIN } from "./fixture.js";
import { alternate, type Command, peakKiB, wallMs } from "./peer.js";
import { type EnvChanges, interleaved, mustSucceed, peakRssKiB, timeProcess } from "./processes.js";
import { median } from "./stats.js";
import { fmt, type Row } from "./table.js";

/** Not `localhost:` or `127.0.0.1:`: both implementations use HTTPS (DESIGN.md §4). */
const TLS_HOST = "127.0.0.2";
/** The system's trust store as bots have it (Debian's): the bundle and the hashed directory. */
const SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
const SYSTEM_DIR = "/etc/ssl/certs";

/** Targets of issue #19: what a bot pays for a refresh over HTTPS with the system's trust store. */
const MAX = { wall: 2.5, rss: 1.4 };

/** The dev server behind TLS, and the trust files that make its certificate trusted. */
export interface HttpsBackend {
  /** `127.0.0.2:PORT`. */
  backend: string;
  /** The test CA alone (PEM). */
  caFile: string;
  /** The system bundle plus the test CA: what SSL_CERT_FILE names on this machine. */
  bundleFile: string;
  close(): void;
}

/** Starts a TLS front (its own process) for the fixture's dev server on 127.0.0.2. */
export async function startHttpsBackend(fx: BenchFixture): Promise<HttpsBackend> {
  const ca = await makeTlsCa("Bench TLS CA");
  const identity = await ca.issue({ ip: [TLS_HOST] });
  const file = (name: string, text: string) => {
    const path = join(fx.dir, name);
    writeFileSync(path, text);
    return path;
  };
  const caFile = file("tls-ca.pem", ca.certPem);
  const bundleFile = file("tls-bundle.pem", `${readFileSync(SYSTEM_BUNDLE, "utf8")}${ca.certPem}`);
  const front = spawn(
    process.execPath,
    [
      fileURLToPath(new URL("./tls-front.cjs", import.meta.url)),
      file("tls-key.pem", identity.keyPem),
      file("tls-cert.pem", identity.certPem),
      TLS_HOST,
      fx.backend.split(":")[1] ?? "",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const backend = await new Promise<string>((resolve, reject) => {
    let out = "";
    front.stdout.on("data", (d: Buffer) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    front.once("exit", (code) => reject(new Error(`the TLS front exited with ${code}`)));
  });
  return { backend, caFile, bundleFile, close: () => front.kill("SIGTERM") };
}

/** One way a bot's trust store may be set up, and the flags it then needs. */
interface TrustSetup {
  name: string;
  env: EnvChanges;
  flags: string[];
  /** Whether the Go binary can trust the server with it (Go has no -ca-bundle). */
  go: boolean;
}

function trustSetups(https: HttpsBackend): TrustSetup[] {
  return [
    {
      name: "SSL_CERT_FILE + SSL_CERT_DIR",
      env: { SSL_CERT_FILE: https.bundleFile, SSL_CERT_DIR: SYSTEM_DIR },
      flags: [],
      go: true,
    },
    {
      name: "SSL_CERT_FILE alone",
      env: { SSL_CERT_FILE: https.bundleFile, SSL_CERT_DIR: undefined },
      flags: [],
      go: true,
    },
    {
      name: "neither (system bundle, -ca-bundle)",
      env: { SSL_CERT_FILE: undefined, SSL_CERT_DIR: undefined },
      flags: ["-ca-bundle", https.caFile],
      go: false,
    },
  ];
}

/** tokend flags for a forced refresh over HTTPS, with a token and status file of their own. */
function refreshFlags(fx: BenchFixture, https: HttpsBackend, extra: string[]): string[] {
  return [
    ...[
      "-backend",
      https.backend,
      "-cert-pem",
      join(fx.dir, "cert.pem"),
      "-pkey-pem",
      join(fx.dir, "key.pem"),
    ],
    ...["-token-file", join(fx.dir, "https-token.json"), "-status-file", join(fx.dir, "https-status.json")],
    ...["-ts-mon-config-file", join(fx.dir, "none.json"), "-force-refresh", ...extra],
  ];
}

function ratioRow(
  figure: string,
  series: { candidate: number[]; bare: number[] },
  max: number | undefined,
  unit: "ms" | "MiB",
): Row {
  const [c, b] = [median(series.candidate), median(series.bare)];
  const scale = unit === "MiB" ? 1024 : 1;
  return {
    figure,
    value: `${fmt(c / b)}× (${fmt(c / scale, 1)} vs ${fmt(b / scale, 1)} ${unit})`,
    target: max === undefined ? "reported" : `≤ ${max}×`,
    ok: max === undefined ? undefined : c / b <= max,
  };
}

/**
 * A forced refresh over HTTPS (TLS front on 127.0.0.2, the system's trust store), for each trust
 * setup: wall time and peak RSS as ratios to bare Node in the same environment (targets), then
 * ours beside the Go binary and bare Node (reported). The environment is this process's, so
 * NODE_EXTRA_CA_CERTS applies to bare Node too when set; one row shows the first setup without it.
 */
export function httpsRefreshRows(fx: BenchFixture, https: HttpsBackend, runs: number): Row[] {
  const rows: Row[] = [];
  const setups = trustSetups(https);
  for (const setup of setups) {
    const args = [BIN, ...refreshFlags(fx, https, setup.flags)];
    const what = `HTTPS refresh, ${setup.name}`;
    mustSucceed(args, setup.env);
    rows.push(
      ratioRow(`${what}: wall / bare node`, interleaved(runs, timeProcess, args, setup.env), MAX.wall, "ms"),
      ratioRow(
        `${what}: peak RSS / bare node`,
        interleaved(runs, peakRssKiB, args, setup.env),
        MAX.rss,
        "MiB",
      ),
    );
  }
  const main = setups[0] as TrustSetup;
  if (process.env.NODE_EXTRA_CA_CERTS) {
    const env = { ...main.env, NODE_EXTRA_CA_CERTS: undefined };
    const args = [BIN, ...refreshFlags(fx, https, main.flags)];
    const what = `HTTPS refresh, ${main.name}, without NODE_EXTRA_CA_CERTS`;
    rows.push(
      ratioRow(`${what}: wall / bare node`, interleaved(runs, timeProcess, args, env), undefined, "ms"),
      ratioRow(`${what}: peak RSS / bare node`, interleaved(runs, peakRssKiB, args, env), undefined, "MiB"),
    );
  }
  rows.push(...goRows(fx, https, setups, runs));
  return rows;
}

/** Ours beside the Go binary and bare Node, alternately, for the setups Go can use. */
function goRows(fx: BenchFixture, https: HttpsBackend, setups: TrustSetup[], runs: number): Row[] {
  const go = process.env.LUCI_GO_TOKEND;
  if (!go)
    return [
      {
        figure: "HTTPS refresh beside Go",
        value: "not measured: LUCI_GO_TOKEND is not set",
        target: "reported",
      },
    ];
  const rows: Row[] = [];
  for (const setup of setups.filter((s) => s.go)) {
    const flags = refreshFlags(fx, https, setup.flags);
    const commands: Command[] = [
      [process.execPath, BIN, ...flags],
      [go, ...flags],
      [process.execPath, "-e", "0"],
    ];
    const [oursMs = 0, goMs = 0, bareMs = 0] = alternate(runs, wallMs, commands, setup.env);
    const [oursKiB = 0, goKiB = 0, bareKiB = 0] = alternate(runs, peakKiB, commands, setup.env);
    rows.push(
      {
        figure: `HTTPS refresh, ${setup.name}: wall, ours / Go`,
        value: `${fmt(oursMs / goMs, 1)}× (ours ${fmt(oursMs, 1)}, Go ${fmt(goMs, 1)}, bare node ${fmt(bareMs, 1)} ms)`,
        target: "reported",
      },
      {
        figure: `HTTPS refresh, ${setup.name}: peak RSS, ours / Go`,
        value: `${fmt(oursKiB / goKiB, 1)}× (ours ${fmt(oursKiB / 1024, 1)}, Go ${fmt(goKiB / 1024, 1)}, bare node ${fmt(bareKiB / 1024, 1)} MiB)`,
        target: "reported",
      },
    );
  }
  return rows;
}

/**
 * The library over HTTPS, as a service would use it, each in a fresh `node` from the repository
 * (the built package): import core, make the client and mint one token; start a refresher and
 * get its first token. Ratios to bare Node with the same environment (the first trust setup).
 * Reported beside the CLI's targets: the package loads protobuf-es and Connect as the ~150 ES
 * modules they ship (BENCHMARKS.md), which the CLI's bundle does not.
 */
export function libraryHttpsRows(fx: BenchFixture, https: HttpsBackend, runs: number): Row[] {
  const env = trustSetups(https)[0]?.env;
  const key = JSON.stringify(join(fx.dir, "key.pem"));
  const cert = JSON.stringify(join(fx.dir, "cert.pem"));
  const backend = JSON.stringify(https.backend);
  const scripts: Array<[string, string]> = [
    [
      "createTokenMinterClient + mintToken over HTTPS",
      `import { createTokenMinterClient, createX509Signer, mintToken } from "@luci-machine-tokend/core";
const signer = await createX509Signer({ keyPath: ${key}, certPath: ${cert} });
await mintToken({ client: createTokenMinterClient(${backend}), signer, timeoutMs: 20000 });`,
    ],
    [
      "startTokenRefresher over HTTPS, first token",
      `import { startTokenRefresher } from "@luci-machine-tokend/core";
const refresher = startTokenRefresher({ backend: ${backend}, keyFile: ${key}, certFile: ${cert}, timeoutMs: 20000 });
await refresher.getToken();
await refresher.stop();`,
    ],
  ];
  const rows: Row[] = [];
  for (const [name, script] of scripts) {
    const args = ["--input-type=module", "-e", script];
    mustSucceed(args, env);
    const reported = (row: Row, max: number): Row => ({
      ...row,
      target: `reported (CLI ≤ ${max}×)`,
      ok: undefined,
    });
    rows.push(
      reported(
        ratioRow(`${name}: wall / bare node`, interleaved(runs, timeProcess, args, env), MAX.wall, "ms"),
        MAX.wall,
      ),
      reported(
        ratioRow(`${name}: peak RSS / bare node`, interleaved(runs, peakRssKiB, args, env), MAX.rss, "MiB"),
        MAX.rss,
      ),
    );
  }
  return rows;
}
