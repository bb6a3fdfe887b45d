import { execFileSync } from "node:child_process";
import { createHash, verify } from "node:crypto";
import { symlink, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignatureAlgorithm } from "../gen/tokenserver/minter/token_minter_pb.js";
import { makeTestPki, type TestPki } from "../testing/pki.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { createX509Signer, KeyLoadError, SHA256_RSA_ALGO } from "./x509-signer.js";

let pki: TestPki;
let ec: { keyPem: string; certPem: string };
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let n = 0;

beforeAll(async () => {
  [pki, tmp] = await Promise.all([makeTestPki(), makeTempDir()]);
  ec = pki.ec;
});
afterAll(() => tmp.remove());

/** Writes `content` to a fresh file and returns its path. */
async function file(content: string | Uint8Array): Promise<string> {
  const path = tmp.path(`f${++n}.pem`);
  await writeFile(path, content);
  return path;
}

/** The KeyLoadError createX509Signer throws, checked to be one line naming `path`. */
async function loadError(keyPath: string, certPath: string, passphrase?: string): Promise<KeyLoadError> {
  const err = await createX509Signer({ keyPath, certPath, passphrase }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KeyLoadError);
  const e = err as KeyLoadError;
  expect(e.message).not.toMatch(/[\r\n]/);
  expect(e.name).toBe("KeyLoadError");
  return e;
}

describe("createX509Signer", () => {
  it("loads a PKCS#1 key and its CA-issued certificate, keeping the raw file bytes", async () => {
    const keyPath = await file(pki.leaf.pkcs1Pem);
    const certPath = await file(pki.leaf.certPem);
    const signer = await createX509Signer({ keyPath, certPath });
    expect(pki.leaf.pkcs1Pem).toContain("BEGIN RSA PRIVATE KEY");
    expect(Buffer.from(signer.keyPem).toString()).toBe(pki.leaf.pkcs1Pem);
    expect(Buffer.from(signer.certPem).toString()).toBe(pki.leaf.certPem);
    expect(signer.certificateDer).toEqual(pki.leaf.certDer);
    expect(signer.algorithm).toBe(SignatureAlgorithm.SHA256_RSA_ALGO);
    expect(signer.certificate.subject).toContain("CN=host.domain");
  });

  it("signs with RSASSA-PKCS1-v1_5 SHA-256: 256 bytes for a 2048-bit key, verifiable with the cert", async () => {
    const signer = await createX509Signer({
      keyPath: await file(pki.leaf.pkcs1Pem),
      certPath: await file(pki.leaf.certPem),
    });
    const data = new TextEncoder().encode("serialized MachineTokenRequest");
    const sig = await signer.sign(data);
    expect(sig.length).toBe(256);
    expect(verify("sha256", data, signer.certificate.publicKey, sig)).toBe(true);
    expect(verify("sha256", data, pki.leaf.publicKey, sig)).toBe(true);
    expect(verify("sha256", new TextEncoder().encode("other"), pki.leaf.publicKey, sig)).toBe(false);
    expect(await signer.sign(data)).toEqual(sig); // deterministic
  });

  it("loads a PKCS#8 key", async () => {
    const signer = await createX509Signer({
      keyPath: await file(pki.other.pkcs8Pem),
      certPath: await file(pki.other.certPem),
    });
    expect(verify("sha256", Buffer.from("x"), pki.other.publicKey, await signer.sign(Buffer.from("x")))).toBe(
      true,
    );
  });

  it("loads an encrypted PKCS#8 key with its passphrase", async () => {
    const encrypted = pki.leaf.privateKey
      .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "s3cret" })
      .toString();
    expect(encrypted).toContain("BEGIN ENCRYPTED PRIVATE KEY");
    const keyPath = await file(encrypted);
    const certPath = await file(pki.leaf.certPem);
    const signer = await createX509Signer({ keyPath, certPath, passphrase: "s3cret" });
    expect(verify("sha256", Buffer.from("x"), pki.leaf.publicKey, await signer.sign(Buffer.from("x")))).toBe(
      true,
    );
    expect(Buffer.from(signer.keyPem).toString()).toBe(encrypted);

    const wrong = await loadError(keyPath, certPath, "wrong");
    expect(wrong.message).toMatch(new RegExp(`^${keyPath}: cannot decrypt the private key`));
    const missing = await loadError(keyPath, certPath);
    expect(missing.message).toBe(
      `${keyPath}: the private key is encrypted and no passphrase was given (-pkey-passphrase-file FILE gives it)`,
    );
  });

  it("loads a legacy encrypted PKCS#1 key (Proc-Type header) with its passphrase", async () => {
    const encrypted = pki.leaf.privateKey
      .export({ type: "pkcs1", format: "pem", cipher: "aes-128-cbc", passphrase: "pw" })
      .toString();
    expect(encrypted).toContain("Proc-Type: 4,ENCRYPTED");
    const keyPath = await file(encrypted);
    const certPath = await file(pki.leaf.certPem);
    await expect(createX509Signer({ keyPath, certPath, passphrase: "pw" })).resolves.toBeDefined();
    expect((await loadError(keyPath, certPath)).message).toMatch(/no passphrase was given/);
  });

  it("uses the first certificate of a file with a chain after the leaf", async () => {
    const chain = `${pki.leaf.certPem}\n${pki.ca.certPem}`;
    const signer = await createX509Signer({
      keyPath: await file(pki.leaf.pkcs1Pem),
      certPath: await file(chain),
    });
    expect(signer.certificateDer).toEqual(pki.leaf.certDer);
    expect(Buffer.from(signer.certPem).toString()).toBe(chain);
  });

  it("skips text before the PEM blocks", async () => {
    const key = `Bag Attributes\n    friendlyName: machine\n${pki.leaf.pkcs1Pem}`;
    const cert = `subject=CN = host.domain\nissuer=CN = Test CA\n${pki.leaf.certPem}`;
    const signer = await createX509Signer({ keyPath: await file(key), certPath: await file(cert) });
    expect(signer.certificateDer).toEqual(pki.leaf.certDer);
  });

  // Go refuses all of these (docs/MIGRATING-FROM-GO.md, "key and certificate files with more than
  // their one PEM block"); the raw bytes, blank lines included, still feed the inputs digest.
  it.each([
    [
      "a blank line after each block",
      (pem: string) => `${pem.trimEnd()}\n\n`,
      (pem: string) => `${pem.trimEnd()}\n\n`,
    ],
    ["text after each block", (pem: string) => `${pem}# machine key\n`, (pem: string) => `${pem}\n# leaf\n`],
  ])("reads key and certificate files with %s", async (_name, key, cert) => {
    const keyText = key(pki.leaf.pkcs1Pem);
    const signer = await createX509Signer({
      keyPath: await file(keyText),
      certPath: await file(cert(pki.leaf.certPem)),
    });
    expect(signer.certificateDer).toEqual(pki.leaf.certDer);
    expect(Buffer.from(signer.keyPem).toString()).toBe(keyText);
  });

  it("reads a key file that also holds the certificate, before or after the key", async () => {
    for (const combined of [
      `${pki.leaf.certPem}\n${pki.leaf.pkcs1Pem}`,
      `${pki.leaf.pkcs1Pem}${pki.leaf.certPem}`,
    ]) {
      const signer = await createX509Signer({
        keyPath: await file(combined),
        certPath: await file(pki.leaf.certPem),
      });
      expect(signer.certificateDer).toEqual(pki.leaf.certDer);
    }
  });

  it("tolerates CRLF line endings", async () => {
    const crlf = (s: string) => s.replace(/\n/g, "\r\n");
    const signer = await createX509Signer({
      keyPath: await file(crlf(pki.leaf.pkcs1Pem)),
      certPath: await file(crlf(pki.leaf.certPem)),
    });
    expect(signer.certificateDer).toEqual(pki.leaf.certDer);
  });

  it("refuses an EC key with a one-line error naming the key file", async () => {
    const keyPath = await file(ec.keyPem);
    const e = await loadError(keyPath, await file(ec.certPem));
    expect(e.message.startsWith(`${keyPath}: `)).toBe(true);
    expect(e.message).toMatch(/EC/);
    expect(e.message).toMatch(/only RSA/);
    expect(e.path).toBe(keyPath);
  });

  it("refuses an EC key in PKCS#8 form too", async () => {
    const { createPrivateKey } = await import("node:crypto");
    const pkcs8 = createPrivateKey(ec.keyPem).export({ type: "pkcs8", format: "pem" }).toString();
    const keyPath = await file(pkcs8);
    const e = await loadError(keyPath, await file(ec.certPem));
    expect(e.message).toMatch(new RegExp(`^${keyPath}: the private key is EC, but only RSA keys work$`));
  });

  it("refuses a certificate given as the key, saying what the file holds", async () => {
    const keyPath = await file(pki.leaf.certPem);
    const e = await loadError(keyPath, await file(pki.leaf.certPem));
    expect(e.message).toBe(
      `${keyPath}: not a valid private key PEM - it holds "CERTIFICATE", not a private key`,
    );
  });

  it("says so when the key and certificate files are swapped", async () => {
    const [keyPath, certPath] = [await file(pki.leaf.certPem), await file(pki.leaf.pkcs1Pem)];
    const e = await loadError(keyPath, certPath);
    expect([e.path, e.message]).toEqual([
      keyPath,
      `${keyPath}: not a valid private key PEM - this file holds a certificate, and ${certPath}, given as the certificate, holds the private key: the two are swapped`,
    ]);
  });

  it("refuses a key given as the certificate", async () => {
    const certPath = await file(pki.leaf.pkcs1Pem);
    const e = await loadError(await file(pki.leaf.pkcs1Pem), certPath);
    expect(e.message).toBe(`${certPath}: expecting "CERTIFICATE" PEM, got "RSA PRIVATE KEY"`);
  });

  it("refuses a certificate that does not match the key", async () => {
    const keyPath = await file(pki.other.pkcs1Pem);
    const certPath = await file(pki.leaf.certPem);
    const e = await loadError(keyPath, certPath);
    expect(e.message).toMatch(new RegExp(`^${certPath}: the certificate doesn't match the private key`));
  });

  it("says which block is the key's certificate when it is not the first", async () => {
    const keyPath = await file(pki.leaf.pkcs1Pem);
    for (const first of [pki.ca.certPem, pki.other.certPem]) {
      const certPath = await file(`${first}${pki.leaf.certPem}`);
      expect((await loadError(keyPath, certPath)).message).toBe(
        `${certPath}: the certificate doesn't match the private key ${keyPath} - block 2 of the file ("CN=host.domain") does: the machine's certificate must be the first block`,
      );
    }
  });

  it("says so when the first block is a CA certificate", async () => {
    const keyPath = await file(pki.leaf.pkcs1Pem);
    const certPath = await file(pki.ca.certPem);
    expect((await loadError(keyPath, certPath)).message).toBe(
      `${certPath}: the certificate doesn't match the private key ${keyPath} - the first block is a CA certificate ("CN=Test CA"), not the machine's`,
    );
    // A plain mismatch (no CA, no later block) keeps Go's text alone.
    const other = await file(pki.other.certPem);
    expect((await loadError(keyPath, other)).message).toBe(
      `${other}: the certificate doesn't match the private key ${keyPath}`,
    );
  });

  it("refuses an RSA key with an EC certificate (wrong types)", async () => {
    const certPath = await file(ec.certPem);
    const e = await loadError(await file(pki.leaf.pkcs1Pem), certPath);
    expect(e.message).toBe(`${certPath}: the certificate doesn't match the private key - wrong types`);
  });

  it("refuses empty files", async () => {
    const empty = await file("");
    expect((await loadError(empty, await file(pki.leaf.certPem))).message).toMatch(
      new RegExp(`^${empty}: file is empty`),
    );
    const emptyCert = await file("");
    expect((await loadError(await file(pki.leaf.pkcs1Pem), emptyCert)).message).toMatch(
      new RegExp(`^${emptyCert}: file is empty`),
    );
  });

  it("refuses files that are not PEM", async () => {
    const junk = await file("this is not a key\n");
    expect((await loadError(junk, await file(pki.leaf.certPem))).message).toBe(
      `${junk}: not a valid private key PEM`,
    );
    const der = await file(pki.leaf.certDer);
    expect((await loadError(await file(pki.leaf.pkcs1Pem), der)).message).toBe(
      `${der}: not a valid certificate PEM`,
    );
  });

  it("refuses a certificate PEM whose DER is not a certificate", async () => {
    const fake = `-----BEGIN CERTIFICATE-----\n${Buffer.from("not DER").toString("base64")}\n-----END CERTIFICATE-----\n`;
    const certPath = await file(fake);
    const e = await loadError(await file(pki.leaf.pkcs1Pem), certPath);
    expect(e.message).toMatch(new RegExp(`^${certPath}: cannot parse the certificate - `));
  });

  it("refuses a missing file, naming it", async () => {
    const missing = tmp.path("absent.pem");
    const e = await loadError(missing, await file(pki.leaf.certPem));
    expect(e.message).toBe(`${missing}: ENOENT: no such file or directory`);
    const missingCert = tmp.path("absent-cert.pem");
    expect((await loadError(await file(pki.leaf.pkcs1Pem), missingCert)).message).toMatch(
      new RegExp(`^${missingCert}: ENOENT`),
    );
  });

  it("refuses a FIFO or a device as the key or certificate at once, naming it", async () => {
    const fifo = tmp.path("key-fifo.pem");
    execFileSync("mkfifo", [fifo]);
    const cert = await file(pki.leaf.certPem);
    expect((await loadError(fifo, cert)).message).toBe(`${fifo}: not a regular file (it is a FIFO)`);
    const zero = tmp.path("cert-zero.pem");
    await symlink("/dev/zero", zero);
    expect((await loadError(await file(pki.leaf.pkcs1Pem), zero)).message).toBe(
      `${zero}: not a regular file (it is a character device)`,
    );
  });

  it("reports the key's problem first when both files are bad", async () => {
    // Both unparseable: the key's problem.
    const key = await file("junk");
    expect((await loadError(key, await file("junk too"))).path).toBe(key);
    // Both missing: the key's read error (files are read key first, then parsed key first).
    const missingKey = tmp.path("absent-key.pem");
    expect((await loadError(missingKey, tmp.path("absent-cert.pem"))).path).toBe(missingKey);
  });

  it("reads files through the injected reader", async () => {
    const files: Record<string, string> = { "/k": pki.leaf.pkcs1Pem, "/c": pki.leaf.certPem };
    const signer = await createX509Signer({
      keyPath: "/k",
      certPath: "/c",
      readFile: async (p) => new TextEncoder().encode(files[p]),
    });
    expect(createHash("sha256").update(signer.certificateDer).digest("hex")).toBe(
      createHash("sha256").update(pki.leaf.certDer).digest("hex"),
    );
  });

  it("spells SHA256_RSA_ALGO as the generated enum does", () => {
    expect(SHA256_RSA_ALGO).toBe(SignatureAlgorithm.SHA256_RSA_ALGO);
  });
});
