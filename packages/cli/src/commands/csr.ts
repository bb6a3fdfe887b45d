import "reflect-metadata";
import { createPrivateKey, webcrypto } from "node:crypto";
import { open, unlink } from "node:fs/promises";
import { errorMessage } from "@luci-machine-tokend/core/internal";
import * as x509 from "@peculiar/x509";
import type { CliIo } from "../cli-io.js";
import { parseSubcommand } from "./yargs-program.js";

/**
 * `csr --fqdn HOST.DOMAIN --key-out K --csr-out C [--bits 2048|4096]`: a new machine key (PKCS#1
 * PEM, mode 0600, the format Go tokend reads) and a certificate request with CN and SAN = the FQDN,
 * for the fleet's CA to sign. Never overwrites a file. Exit 0 on success, 1 on failure.
 */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const parsed = await parseSubcommand("csr", argv, io, (y) =>
    y
      .usage(
        "$0 --fqdn HOST.DOMAIN --key-out K --csr-out C [--bits 2048|4096]\n\nMakes a machine key and a CSR.",
      )
      .option("fqdn", { type: "string", demandOption: true, describe: "The machine's FQDN (CN and SAN)" })
      .option("key-out", {
        type: "string",
        demandOption: true,
        describe: "Where to write the new private key",
      })
      .option("csr-out", { type: "string", demandOption: true, describe: "Where to write the CSR" })
      .option("bits", { type: "number", choices: [2048, 4096], default: 2048, describe: "RSA key size" }),
  );
  if ("exitCode" in parsed) return parsed.exitCode;
  const { args } = parsed;
  const fqdn = args.fqdn.toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(fqdn)) {
    io.stderr(
      `--fqdn ${JSON.stringify(args.fqdn)}: expecting a host name with a domain, e.g. bot-1.example.com\n`,
    );
    return 2;
  }
  try {
    const { keyPem, csrPem } = await createMachineCsr(fqdn, args.bits);
    // Both files are created exclusively, the key first; a failure leaves no half pair behind.
    await writeNewFile(args["key-out"], keyPem, 0o600);
    try {
      await writeNewFile(args["csr-out"], csrPem, 0o644);
    } catch (err) {
      await unlink(args["key-out"]).catch(() => {});
      throw err;
    }
  } catch (err) {
    io.stderr(`csr: ${errorMessage(err)}\n`);
    return 1;
  }
  io.stdout(`Wrote the key to ${args["key-out"]} and the CSR for ${fqdn} to ${args["csr-out"]}\n`);
  return 0;
}

/** A new RSA key (PKCS#1 PEM) and a PKCS#10 request for it with CN and SAN = `fqdn`. */
export async function createMachineCsr(
  fqdn: string,
  bits: number,
): Promise<{ keyPem: string; csrPem: string }> {
  const algorithm = {
    name: "RSASSA-PKCS1-v1_5",
    hash: "SHA-256",
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: bits,
  };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${fqdn}`,
    keys,
    signingAlgorithm: algorithm,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "dns", value: fqdn }])],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).export({
    type: "pkcs1",
    format: "pem",
  });
  return { keyPem: keyPem.toString(), csrPem: `${csr.toString("pem")}\n` };
}

async function writeNewFile(path: string, text: string, mode: number): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "wx", mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST")
      throw new Error(`${path} already exists; refusing to overwrite it`);
    throw new Error(`${path}: ${errorMessage(err)}`);
  }
  try {
    await handle.writeFile(text);
    await handle.chmod(mode); // exact mode whatever the umask: the key must not be readable by others
    await handle.sync();
  } finally {
    await handle.close();
  }
}
