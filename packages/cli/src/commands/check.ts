import { X509Certificate } from "node:crypto";
import { mkdtemp, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createX509Signer } from "@luci-machine-tokend/core";
import {
  certificateNames,
  errorMessage,
  escapeForLog,
  fsErrorReason,
  machineFqdn,
  readCapped,
  systemNow,
} from "@luci-machine-tokend/core/internal";
import type { CliIo } from "../cli-io.js";
import { readPassphrase } from "../token-update-settings.js";
import { checkBackend } from "./check-backend.js";
import { CERTIFICATE_PEM_FIX, keyPairFix, tokenDirectoryFix, unreadableFileFix } from "./check-fixes.js";
import type { CheckResult } from "./check-result.js";
import { parseSubcommand } from "./yargs-program.js";

const DAY_MS = 86_400_000;
/** As createX509Signer reads them. */
const MAX_PEM_BYTES = 1 << 20;

/**
 * `check -backend B -cert-pem P -pkey-pem P [-token-file P]`: everything a run needs, one line per
 * check with the fix for what failed — key and certificate, validity, the identity the server
 * will derive and the issuer it must trust, the token directory, the backend as a pRPC server
 * (without minting) and the clock. Exit 1 if any check fails.
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
  const [key, cert] = await Promise.all([
    readPem("-pkey-pem", args["pkey-pem"]),
    readPem("-cert-pem", args["cert-pem"]),
  ]);
  const passphraseFile = args["pkey-passphrase-file"];
  // A bad passphrase file fails the key check (one line naming the flag), not the command.
  const passphrase = passphraseFile
    ? await readPassphrase(passphraseFile).catch((err: unknown) => new Error(errorMessage(err)))
    : undefined;
  const keyPair = "key and certificate";
  if (passphrase instanceof Error) {
    const hint = unreadableFileFix("-pkey-passphrase-file");
    results.push({ name: keyPair, status: "FAIL", detail: passphrase.message, hint });
  } else if ("unreadable" in key) {
    results.push({ name: keyPair, status: "FAIL", ...key.unreadable });
  } else if ("unreadable" in cert) {
    results.push({ name: keyPair, status: "FAIL", ...cert.unreadable });
  } else {
    results.push(await checkKeyPair(key, cert, passphrase));
  }
  results.push(...checkCertificate(cert, now()));
  if (args["token-file"]) results.push(await checkTokenDirectory(args["token-file"]));
  results.push(...(await checkBackend(args.backend, args["ca-bundle"], now)));
  for (const r of results) {
    const fix = (r.status === "WARN" || r.status === "FAIL") && r.hint ? ` (fix: ${r.hint})` : "";
    io.stdout(`${r.status} ${r.name}: ${r.detail}${fix}\n`);
  }
  return results.some((r) => r.status === "FAIL") ? 1 : 0;
}

/** A PEM file read as a run reads it, or why it cannot be (with the fix). */
type PemFile =
  | { path: string; bytes: Uint8Array }
  | { path: string; unreadable: { detail: string; hint: string } };

async function readPem(flag: string, path: string): Promise<PemFile> {
  try {
    return { path, bytes: await readCapped(path, MAX_PEM_BYTES) };
  } catch (err) {
    const detail = escapeForLog(`${path}: ${fsErrorReason(err)}`);
    return { path, unreadable: { detail, hint: unreadableFileFix(flag) } };
  }
}

async function checkKeyPair(
  key: { path: string; bytes: Uint8Array },
  cert: { path: string; bytes: Uint8Array },
  passphrase: string | undefined,
): Promise<CheckResult> {
  const name = "key and certificate";
  const files = new Map([
    [key.path, key.bytes],
    [cert.path, cert.bytes],
  ]);
  try {
    const signer = await createX509Signer({
      keyPath: key.path,
      certPath: cert.path,
      passphrase,
      readFile: async (path) => files.get(path) ?? new Uint8Array(),
    });
    const bits = signer.certificate.publicKey.asymmetricKeyDetails?.modulusLength;
    return { name, status: "PASS", detail: `RSA ${bits}-bit key matches the certificate` };
  } catch (err) {
    return { name, status: "FAIL", detail: errorMessage(err), hint: keyPairFix(err, cert.path) };
  }
}

function checkCertificate(file: PemFile, now: Date): CheckResult[] {
  const name = "certificate";
  if ("unreadable" in file) return [{ name, status: "FAIL", ...file.unreadable }];
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(file.bytes);
  } catch (err) {
    return [
      {
        name,
        status: "FAIL",
        detail: escapeForLog(`${file.path}: ${errorMessage(err)}`),
        hint: CERTIFICATE_PEM_FIX,
      },
    ];
  }
  const results: CheckResult[] = [checkValidity(cert, now)];
  const names = certificateNames(cert.subject, cert.subjectAltName);
  const identity = machineFqdn(names.commonName, names.dnsNames);
  results.push(
    identity.error === undefined
      ? {
          name: "machine identity",
          status: "PASS",
          detail: `the token server will see ${identity.fqdn} (domain ${identity.domain})`,
        }
      : {
          name: "machine identity",
          status: "FAIL",
          detail: identity.error,
          hint: "the certificate's CN must be the machine FQDN, or its first label with the FQDN as a SAN",
        },
  );
  // No file here says which CAs the token server trusts: a run it refuses ends in
  // MINT_TOKEN_ERROR_UNTRUSTED_CERTIFICATE, and this line says whom to ask.
  results.push({
    name: "certificate issuer",
    status: "INFO",
    detail: `${escapeForLog(JSON.stringify(cert.issuer.replace(/\n/g, ", ")))}: only the token server can tell whether it trusts this CA (if not, runs fail with MINT_TOKEN_ERROR_UNTRUSTED_CERTIFICATE)`,
  });
  return results;
}

function checkValidity(cert: X509Certificate, now: Date): CheckResult {
  const name = "certificate validity";
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  const renew = "have the fleet CA issue a new certificate";
  if (now < from) {
    return {
      name,
      status: "FAIL",
      detail: `not valid before ${from.toISOString()} (now ${now.toISOString()})`,
      hint: "check this machine's clock (NTP); if it is right, the certificate is not valid yet: wait or have it reissued",
    };
  }
  if (now > to) return { name, status: "FAIL", detail: `expired at ${to.toISOString()}`, hint: renew };
  const daysLeft = Math.floor((to.getTime() - now.getTime()) / DAY_MS);
  return {
    name,
    status: daysLeft < 14 ? "WARN" : "PASS",
    detail: `valid until ${to.toISOString()} (${daysLeft} days left)`,
    hint: renew,
  };
}

async function checkTokenDirectory(tokenPath: string): Promise<CheckResult> {
  const name = "token directory";
  const dir = dirname(tokenPath);
  try {
    // A real create and remove: access(W_OK) says yes to root even on a read-only mount.
    await rmdir(await mkdtemp(join(dir, ".tokend-check-")));
    return { name, status: "PASS", detail: `${dir} is writable` };
  } catch (err) {
    return { name, status: "FAIL", detail: errorMessage(err), hint: tokenDirectoryFix(err, dir) };
  }
}
