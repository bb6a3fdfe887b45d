import { createPublicKey } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { escapeForLog } from "@luci-machine-tokend/core/internal";
import {
  createServiceAccountKey,
  createTlsCa,
  type DevServerOptions,
  type ProdxInsert,
} from "@luci-machine-tokend/dev-server";
import { makePrivateDirs } from "../make-private-dirs.js";

/** The demo's ts-mon service account (only the demo's OAuth stand-in knows it). */
export const DEMO_SERVICE_ACCOUNT = "tsmon-demo@demo-project.iam.gserviceaccount.com";

/**
 * What the demo's metrics need, made once in the demo folder and reused: a TLS identity for
 * 127.0.0.1 (ProdX and the OAuth token endpoint speak TLS, as Google's) with its CA, the file the
 * child trusts as its system roots through SSL_CERT_FILE (what the Go binary honours too: the
 * tokend's -ca-bundle is not Go's and is not used for ts-mon), a service-account key, and a HOME
 * for the child, where the OAuth token is cached (never the user's own).
 */
export interface DemoMonitoring {
  /** The dev server options that stand in for ProdX and the OAuth token endpoint. */
  serverOptions: Required<Pick<DevServerOptions, "prodx" | "googleOAuth">>;
  /** SSL_CERT_FILE for the child. */
  caFile: string;
  /** `-ts-mon-credentials`: the service-account key, written by {@link writeDemoKey}. */
  keyFile: string;
  /** HOME for the child. */
  home: string;
  /** The key file's JSON, `token_uri` still to be set. */
  key: Record<string, unknown>;
}

/** Makes (the first time) or reads the demo's monitoring files in `dir`. */
export async function demoMonitoring(dir: string): Promise<DemoMonitoring> {
  const paths = {
    ca: join(dir, "tls-ca.pem"),
    cert: join(dir, "tls-cert.pem"),
    tlsKey: join(dir, "tls-key.pem"),
    key: join(dir, "service-account.json"),
  };
  const read = (p: string) => readFile(p, "utf8").catch(() => undefined);
  let [caPem, certPem, keyPem] = await Promise.all([read(paths.ca), read(paths.cert), read(paths.tlsKey)]);
  if (caPem === undefined || certPem === undefined || keyPem === undefined) {
    const ca = await createTlsCa("Demo TLS CA");
    ({ certPem, keyPem } = await ca.issue({ dns: ["localhost"], ip: ["127.0.0.1"] }));
    caPem = ca.certPem;
    await writeNewFile(paths.tlsKey, keyPem, 0o600);
    await writeNewFile(paths.cert, certPem);
    await writeNewFile(paths.ca, caPem);
  }
  let key = await read(paths.key).then(parseKey);
  if (key === undefined) {
    // Its token_uri is set once the OAuth stand-in listens (writeDemoKey).
    key = JSON.parse(createServiceAccountKey({ tokenUri: "", email: DEMO_SERVICE_ACCOUNT }).json) as Record<
      string,
      unknown
    >;
  }
  const home = join(dir, "home");
  await makePrivateDirs(home);
  const tls = { certPem, keyPem };
  return {
    serverOptions: {
      prodx: { tls },
      googleOAuth: {
        tls,
        serviceAccounts: { [DEMO_SERVICE_ACCOUNT]: createPublicKey(String(key.private_key)) },
      },
    },
    caFile: paths.ca,
    keyFile: paths.key,
    home,
    key,
  };
}

/** A key file the demo wrote before, or undefined (then a new one is made). */
function parseKey(text: string | undefined): Record<string, unknown> | undefined {
  try {
    const key = JSON.parse(text ?? "") as Record<string, unknown>;
    createPublicKey(String(key.private_key));
    return key.client_email === DEMO_SERVICE_ACCOUNT ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes the service-account key (0600) naming the OAuth stand-in of this run as its `token_uri`
 * when it changed (its port may differ from run to run). The OAuth token cached by an earlier
 * run stays good: luci-go's cache key is the account and the key's id, not the endpoint.
 */
export async function writeDemoKey(monitoring: DemoMonitoring, tokenUri: string): Promise<void> {
  if (monitoring.key.token_uri === tokenUri) return;
  monitoring.key.token_uri = tokenUri;
  await writeNewFile(monitoring.keyFile, `${JSON.stringify(monitoring.key, null, 2)}\n`, 0o600);
}

/**
 * What ProdX received, for the demo's summary: one line per metric, its full name and value
 * (strings quoted, microseconds with their unit), escaped: the payload came over the network.
 */
export function receivedMetricLines(insert: ProdxInsert): string[] {
  const dataSets = insert.payload?.metricsCollection.flatMap((c) => c.metricsDataSet) ?? [];
  return dataSets.map((d) => {
    const value = d.data[0]?.value;
    const text =
      value?.case === "stringValue"
        ? JSON.stringify(value.value)
        : value?.case === "distributionValue"
          ? `distribution of ${value.value.count} values`
          : String(value?.value ?? "(none)");
    const unit = d.annotations?.unit ? ` ${d.annotations.unit}` : "";
    return escapeForLog(`${d.metricName} ${text}${unit}`);
  });
}

/** Replaces what a half-done earlier run left at `path` with a new file, never writing through a link. */
export async function writeNewFile(path: string, text: string, mode = 0o644): Promise<void> {
  await rm(path, { force: true });
  await writeFile(path, text, { mode, flag: "wx" });
}
