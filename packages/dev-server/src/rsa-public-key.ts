import type { SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import { bigintFromTwosComplement } from "./serial.js";

/** The numbers of an RSA public key that decide what verifying with it costs and whether Go allows it. */
export interface RsaPublicNumbers {
  /** Bit length of the modulus. */
  modulusBits: number;
  modulusOdd: boolean;
  /** The public exponent (positive, at most 2^63-1: Go's parser refuses the rest). */
  exponent: bigint;
}

const RSA_ENCRYPTION_OID = "1.2.840.113549.1.1.1";
const TAG_INTEGER = 0x02;
const TAG_SEQUENCE = 0x30;

/**
 * Reads the RSA key of a certificate as Go's x509.ParseCertificate does (crypto/x509 parser.go,
 * parsePublicKey): NULL parameters, a DER SEQUENCE of two minimal INTEGERs, an exponent that fits
 * Go's int (8 bytes), both positive. Throws Go's error text for what Go refuses; undefined for a
 * key that is not rsaEncryption. It reads a few bytes, so a hostile exponent is refused before
 * any arithmetic is done with it.
 */
export function parseRsaPublicKey(spki: SubjectPublicKeyInfo): RsaPublicNumbers | undefined {
  if (spki.algorithm.algorithm !== RSA_ENCRYPTION_OID) return undefined;
  // @peculiar reads an ASN.1 NULL as null, an absent field as undefined.
  if (spki.algorithm.parameters !== null) throw new Error("x509: RSA key missing NULL parameters");
  const key = new Uint8Array(spki.subjectPublicKey);
  const sequence = readElement(key, 0, key.length);
  if (sequence?.tag !== TAG_SEQUENCE) throw new Error("x509: invalid RSA public key");
  const modulus = readInteger(key, sequence.start, sequence.end);
  if (!modulus) throw new Error("x509: invalid RSA modulus");
  const exponent = readInteger(key, modulus.end, sequence.end);
  // Go reads the exponent into an int: more than 8 bytes does not fit.
  if (!exponent || exponent.end - exponent.start > 8) throw new Error("x509: invalid RSA public exponent");
  const n = key.subarray(modulus.start, modulus.end);
  if (isNegative(n) || n.every((b) => b === 0)) throw new Error("x509: RSA modulus is not a positive number");
  const e = bigintFromTwosComplement(key.subarray(exponent.start, exponent.end));
  if (e <= 0n) throw new Error("x509: RSA public exponent is not a positive number");
  return { modulusBits: bitLength(n), modulusOdd: ((n[n.length - 1] ?? 0) & 1) === 1, exponent: e };
}

interface Element {
  tag: number;
  /** Offset of the content. */
  start: number;
  /** Offset just past the content. */
  end: number;
}

/** One DER element starting at `pos` that ends by `limit`, with cryptobyte's length rules; undefined if malformed. */
function readElement(bytes: Uint8Array, pos: number, limit: number): Element | undefined {
  if (pos + 2 > limit) return undefined;
  const tag = bytes[pos] ?? 0;
  const first = bytes[pos + 1] ?? 0;
  let start = pos + 2;
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    // Indefinite (0) and over-long length fields are BER, not DER.
    if (count === 0 || count > 4 || start + count > limit || bytes[start] === 0) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (bytes[start + i] ?? 0);
    if (length < 0x80) return undefined; // the short form was required
    start += count;
  }
  if (start + length > limit) return undefined;
  return { tag, start, end: start + length };
}

/** An INTEGER with minimal content (Go's checkASN1Integer), or undefined. */
function readInteger(bytes: Uint8Array, pos: number, limit: number): Element | undefined {
  const element = readElement(bytes, pos, limit);
  if (element?.tag !== TAG_INTEGER || element.end === element.start) return undefined;
  const [a = 0, b = 0] = bytes.subarray(element.start, element.start + 2);
  if (element.end - element.start > 1 && ((a === 0 && !(b & 0x80)) || (a === 0xff && b & 0x80)))
    return undefined;
  return element;
}

function isNegative(twosComplement: Uint8Array): boolean {
  return ((twosComplement[0] ?? 0) & 0x80) !== 0;
}

/** Bit length of a non-negative big-endian number. */
function bitLength(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i] ?? 0));
}
