import { createPublicKey, sign } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import type { TestLeaf, TestPki } from "../test-pki.js";
import { x509 } from "../x509.js";

/**
 * Certificates whose RSA key is written byte by byte, for the keys a hostile client may send
 * (huge or even exponents, even moduli, malformed INTEGERs) that no key generator makes.
 */

/** DER TLV with a definite, minimal length. */
function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  const length =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return new Uint8Array([tag, ...length, ...content]);
}

/** Big-endian bytes of a non-negative bigint with a leading zero when the top bit is set (a positive INTEGER). */
export function positiveIntegerBytes(value: bigint): Uint8Array {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, "hex");
  return new Uint8Array((bytes[0] ?? 0) & 0x80 ? [0, ...bytes] : bytes);
}

/** An RSAPublicKey (PKCS#1) with these INTEGER contents, written as given (malformed on purpose if asked). */
export function rsaPublicKeyDer(modulus: Uint8Array, exponent: Uint8Array): Uint8Array {
  return tlv(0x30, new Uint8Array([...tlv(0x02, modulus), ...tlv(0x02, exponent)]));
}

/** The modulus of the PKI's machine key, as positive INTEGER content. */
export function machineModulus(pki: TestPki): Uint8Array {
  const n = createPublicKey(pki.keyPem).export({ format: "jwk" }).n ?? "";
  return positiveIntegerBytes(BigInt(`0x${Buffer.from(n, "base64url").toString("hex")}`));
}

/**
 * The PKI's machine certificate with its key replaced by `rsaPublicKey` (RSAPublicKey DER), signed
 * again by the CA so only the key differs. `parameters: "absent"` drops the NULL that rsaEncryption
 * needs. The key PEM is the machine key's, which no longer matches: sign requests with it to get a
 * signature of the usual length.
 */
export function certificateWithRsaKey(
  pki: TestPki,
  rsaPublicKey: Uint8Array,
  parameters: "null" | "absent" = "null",
): TestLeaf {
  const cert = AsnConvert.parse(pki.leaf.certDer, Certificate);
  const spki = cert.tbsCertificate.subjectPublicKeyInfo;
  spki.subjectPublicKey = rsaPublicKey.slice().buffer;
  if (parameters === "absent") spki.algorithm.parameters = undefined;
  cert.tbsCertificateRaw = undefined; // or the serializer writes the original bytes back
  const tbs = new Uint8Array(AsnConvert.serialize(cert.tbsCertificate));
  cert.signatureValue = new Uint8Array(sign("sha256", tbs, pki.caKeyPem)).buffer;
  const certDer = new Uint8Array(AsnConvert.serialize(cert));
  return {
    ...pki.leaf,
    certDer,
    certPem: x509.PemConverter.encode(certDer.slice().buffer, "CERTIFICATE"),
  };
}
