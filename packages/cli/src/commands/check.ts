import { X509Certificate } from "node:crypto";
import { mkdtemp, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ConnectError } from "@connectrpc/connect";
import { createX509Signer } from "@luci-machine-tokend/core";
import {
  certificateNames,
  errorMessage,
  formatGoDuration,
  machineFqdn,
  readCapped,
  systemNow,
} from "@luci-machine-tokend/core/internal";
import {
  type BackendConnection,
  createBackendConnection,
  explainConnectionError,
  PRPC_BINARY_CONTENT_TYPE,
} from "@luci-machine-tokend/core/protocol-prpc";
import { readPassphrase } from "../assess-token.js";
import type { CliIo } from "../cli-io.js";
import { parseSubcommand } from "./yargs-program.js";

/** One line of `check`: what was checked, how it went, and what to do about it. */
export interface CheckResult {
  name: string;
  status: "PASS" | "WARN" | "FAIL";
  detail: string;
  hint?: string;
}

const DAY_MS = 86_400_000;
const MAX_SKEW_MS = 10 * 60_000;

/**
 * `check -backend B -cert-pem P -pkey-pem P [-token-file P]`: everything a run needs, one line per
 * check with a fix hint — key and certificate, validity, the identity the server will derive, the
 * token directory, the backend as a pRPC server (without minting) and the clock. Exit 1 if any
 * check fails.
 */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const parsed = await parseSubcommand("check", argv, io, (y) =>
    y
      .usage("$0 -backend B -cert-pem P -pkey-pem P [-token-file P]\n\nChecks a machine's tokend setup.")
      .option("backend", { type: "string", demandOption: true, describe: "Token server host[:port]" })
      .option("cert-pem", { type: "string", demandOption: true, describe: "The machine certificate (PEM)" })
      .option("pkey-pem", { type: "string", demandOption: true, describe: "The machine private key (PEM)" })
      .option("pkey-passphrase-file", { type: "string", describe: "Passphrase of an encrypted key" })
      .option("token-file", { type: "string", describe: "The token file tokend will write" })
      .option("ca-bundle", { type: "string", describe: "Extra trust roots (PEM) for the backend" }),
  );
  if ("exitCode" in parsed) return parsed.exitCode;
  const { args } = parsed;
  const now = io.deps?.now ?? systemNow;
  const results: CheckResult[] = [];
  const passphraseFile = args["pkey-passphrase-file"];
  // A bad passphrase file fails the key check (one line naming the flag), not the command.
  const passphrase = passphraseFile
    ? await readPassphrase(passphraseFile).catch((err: unknown) => new Error(errorMessage(err)))
    : undefined;
  results.push(
    passphrase instanceof Error
      ? { name: "key and certificate", status: "FAIL", detail: passphrase.message }
      : await checkKeyPair(args["pkey-pem"], args["cert-pem"], passphrase),
  );
  results.push(...(await checkCertificate(args["cert-pem"], now())));
  if (args["token-file"]) results.push(await checkTokenDirectory(args["token-file"]));
  results.push(...(await checkBackend(args.backend, args["ca-bundle"], now)));
  for (const r of results) {
    io.stdout(
      `${r.status} ${r.name}: ${r.detail}${r.status !== "PASS" && r.hint ? ` (fix: ${r.hint})` : ""}\n`,
    );
  }
  return results.some((r) => r.status === "FAIL") ? 1 : 0;
}

async function checkKeyPair(keyPath: string, certPath: string, passphrase?: string): Promise<CheckResult> {
  const name = "key and certificate";
  try {
    const signer = await createX509Signer({ keyPath, certPath, passphrase });
    const bits = signer.certificate.publicKey.asymmetricKeyDetails?.modulusLength;
    return { name, status: "PASS", detail: `RSA ${bits}-bit key matches the certificate` };
  } catch (err) {
    return {
      name,
      status: "FAIL",
      detail: errorMessage(err),
      hint: "give the RSA key the certificate was issued for, as PEM (`luci-machine-tokend csr` makes a pair)",
    };
  }
}

async function checkCertificate(certPath: string, now: Date): Promise<CheckResult[]> {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(await readCapped(certPath));
  } catch (err) {
    return [
      {
        name: "certificate",
        status: "FAIL",
        detail: `${certPath}: ${errorMessage(err)}`,
        hint: "give a PEM certificate",
      },
    ];
  }
  const results: CheckResult[] = [];
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  const daysLeft = Math.floor((to.getTime() - now.getTime()) / DAY_MS);
  const renew = "have the fleet CA issue a new certificate";
  if (now < from) {
    results.push({
      name: "certificate validity",
      status: "FAIL",
      detail: `not valid before ${from.toISOString()}`,
      hint: "check the clock",
    });
  } else if (now > to) {
    results.push({
      name: "certificate validity",
      status: "FAIL",
      detail: `expired at ${to.toISOString()}`,
      hint: renew,
    });
  } else {
    const status = daysLeft < 14 ? "WARN" : "PASS";
    results.push({
      name: "certificate validity",
      status,
      detail: `valid until ${to.toISOString()} (${daysLeft} days left)`,
      hint: renew,
    });
  }
  const names = certificateNames(cert.subject, cert.subjectAltName);
  const identity = machineFqdn(names.commonName, names.dnsNames);
  results.push(
    identity.error === undefined
      ? {
          name: "machine identity",
          status: "PASS",
          detail: `the token server will see ${identity.fqdn} (domain ${identity.domain}), issuer ${cert.issuer.replace(/\n/g, ", ")}`,
        }
      : {
          name: "machine identity",
          status: "FAIL",
          detail: identity.error,
          hint: "the certificate's CN must be the machine FQDN, or its first label with the FQDN as a SAN",
        },
  );
  return results;
}

async function checkTokenDirectory(tokenPath: string): Promise<CheckResult> {
  const dir = dirname(tokenPath);
  try {
    // A real create and remove: access(W_OK) says yes to root even on a read-only mount.
    await rmdir(await mkdtemp(join(dir, ".tokend-check-")));
    return { name: "token directory", status: "PASS", detail: `${dir} is writable` };
  } catch (err) {
    return {
      name: "token directory",
      status: "FAIL",
      detail: errorMessage(err),
      hint: `create ${dir} and let this user write to it`,
    };
  }
}

/** Sends an empty MintMachineToken request: a pRPC server refuses it (code 3) without minting. */
async function checkBackend(
  backend: string,
  caBundle: string | undefined,
  now: () => Date,
): Promise<CheckResult[]> {
  const hint = "check -backend, DNS, the firewall and HTTPS_PROXY";
  let connection: BackendConnection;
  try {
    // The same connection setup as a run: trust roots and the proxy from the environment.
    connection = createBackendConnection(backend, { caBundle });
  } catch (err) {
    return [
      { name: "backend", status: "FAIL", detail: errorMessage(err), hint: "give host[:port], no scheme" },
    ];
  }
  const { httpClient, proxy } = connection;
  const url = new URL(`${connection.baseUrl}/prpc/tokenserver.minter.TokenMinter/MintMachineToken`);
  const started = performance.now();
  let status: number;
  let header: Headers;
  try {
    const res = await httpClient({
      url: url.toString(),
      method: "POST",
      header: new Headers({ "Content-Type": PRPC_BINARY_CONTENT_TYPE, Accept: PRPC_BINARY_CONTENT_TYPE }),
      signal: AbortSignal.timeout(10_000),
      body: (async function* () {})(),
    });
    for await (const _ of res.body) {
      // drain
    }
    ({ status, header } = res);
  } catch (err) {
    return [
      {
        name: "backend",
        status: "FAIL",
        detail: `${url.host}: ${ConnectError.from(explainConnectionError(err, connection)).rawMessage}`,
        hint,
      },
    ];
  }
  const ms = Math.round(performance.now() - started);
  const code = header.get("X-Prpc-Grpc-Code");
  const results: CheckResult[] = [
    code === null
      ? {
          name: "backend",
          status: "FAIL",
          detail: `${url.host} answered HTTP ${status} without pRPC headers (a proxy or the wrong server?)`,
          hint,
        }
      : {
          name: "backend",
          status: "PASS",
          detail: `${url.host} is a pRPC server (answered code ${code} in ${ms} ms${proxy ? `, via ${proxy.host}` : ""})`,
        },
  ];
  const date = header.get("Date");
  if (date === null) {
    results.push({
      name: "clock",
      status: "PASS",
      detail: "the server sent no Date header; skew not measured",
    });
  } else {
    const skew = now().getTime() - Date.parse(date);
    const text = `this machine is ${formatGoDuration(Math.abs(Math.round(skew / 1000)) * 1000)} ${skew >= 0 ? "ahead of" : "behind"} the server`;
    const status = Math.abs(skew) >= MAX_SKEW_MS ? "FAIL" : Math.abs(skew) > 60_000 ? "WARN" : "PASS";
    results.push({
      name: "clock",
      status,
      detail: text,
      hint: "sync the clock (NTP): the server refuses requests over 10 minutes off",
    });
  }
  return results;
}
