import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject, webcrypto } from "node:crypto";
import { promisify } from "node:util";

const generateKeyPairAsync = promisify(generateKeyPair);

const RSA_SHA256 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

/** An RSA key pair in both forms: node KeyObjects for signing, WebCrypto keys for @peculiar/x509. */
export interface RsaKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  cryptoKeys: CryptoKeyPair;
  /** The private key as PKCS#1 PEM (`RSA PRIVATE KEY`), the format Go tokend reads. */
  pkcs1Pem: string;
}

/** Generates a 2048-bit RSA key pair (off the main thread; ~50-300 ms). */
export async function generateRsaKeyPair(): Promise<RsaKeyPair> {
  const { privateKey } = await generateKeyPairAsync("rsa", { modulusLength: 2048, publicExponent: 0x10001 });
  return rsaKeyPairFromPrivateKey(privateKey);
}

/** Loads an RSA private key PEM (PKCS#1 or PKCS#8). Throws if it is not RSA. */
export async function rsaKeyPairFromPem(pem: string): Promise<RsaKeyPair> {
  return rsaKeyPairFromPrivateKey(createPrivateKey(pem));
}

async function rsaKeyPairFromPrivateKey(privateKey: KeyObject): Promise<RsaKeyPair> {
  if (privateKey.asymmetricKeyType !== "rsa") {
    throw new TypeError(`expected an RSA private key, got ${privateKey.asymmetricKeyType ?? "unknown"}`);
  }
  const publicKey = createPublicKey(privateKey);
  const [cryptoPrivate, cryptoPublic] = await Promise.all([
    webcrypto.subtle.importKey(
      "pkcs8",
      privateKey.export({ type: "pkcs8", format: "der" }),
      RSA_SHA256,
      true,
      ["sign"],
    ),
    webcrypto.subtle.importKey("spki", publicKey.export({ type: "spki", format: "der" }), RSA_SHA256, true, [
      "verify",
    ]),
  ]);
  return {
    privateKey,
    publicKey,
    cryptoKeys: { privateKey: cryptoPrivate, publicKey: cryptoPublic } as CryptoKeyPair,
    pkcs1Pem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
  };
}
