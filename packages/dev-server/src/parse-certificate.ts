import { X509Certificate as NodeX509Certificate } from "node:crypto";
import { AsnParser } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import { fromBER } from "asn1js";
import { parseRsaPublicKey, type RsaPublicNumbers } from "./rsa-public-key.js";
import { bigintFromTwosComplement } from "./serial.js";
import { x509 } from "./x509.js";

/** A certificate parsed both ways: @peculiar/x509 for names and extensions, node:crypto for keys. */
export interface ParsedCertificate {
  der: Uint8Array;
  cert: x509.X509Certificate;
  node: NodeX509Certificate;
  /** X.509 version (1, 2 or 3). */
  version: number;
  /** Serial number as a signed INTEGER (the DER value, not peculiar's normalized hex). */
  serial: bigint;
  /** The key's numbers when it is an RSA key (rsaEncryption), read without OpenSSL. */
  rsa?: RsaPublicNumbers;
}

/**
 * Parses certificate DER strictly, as Go's x509.ParseCertificate: a single well-formed certificate
 * with nothing after it, a serial that is not negative, and an RSA key Go's parser accepts. Throws
 * on anything else. Not cached: see certificate-cache.ts for what may be kept.
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  // One certificate and nothing after it: the BER parser says where the first element ends.
  const ber = fromBER(der);
  if (ber.offset !== der.length) throw new Error("x509: malformed certificate");
  let asn: Certificate;
  try {
    asn = AsnParser.fromASN(ber.result, Certificate);
  } catch {
    throw new Error("x509: malformed certificate");
  }
  const tbs = asn.tbsCertificate;
  const version = tbs.version + 1;
  // The INTEGER as written, sign included (@peculiar/x509's serial is normalized hex).
  const serial = bigintFromTwosComplement(new Uint8Array(tbs.serialNumber));
  // Go's x509.ParseCertificate refuses negative serials since Go 1.23 (GODEBUG x509negativeserial).
  if (serial < 0n) throw new Error("x509: negative serial number");
  const rsa = parseRsaPublicKey(tbs.subjectPublicKeyInfo);
  return {
    der,
    // Built from the parsed structure: parsing the DER a second time doubled the cost of a large certificate.
    cert: new x509.X509Certificate(asn),
    node: new NodeX509Certificate(der),
    version,
    serial,
    ...(rsa && { rsa }),
  };
}

/** Parses the first CERTIFICATE of a PEM text. */
export function parseCertificatePem(pem: string): ParsedCertificate {
  const der = new x509.X509Certificate(pem).rawData;
  return parseCertificate(new Uint8Array(der));
}

/** The subject (or issuer) CN as Go's pkix.Name reads it: the last CN attribute, or "". */
export function commonName(name: x509.Name): string {
  const cns = name.getField("CN");
  return cns[cns.length - 1] ?? "";
}

/** DNS names of the Subject Alternative Name extension. */
export function dnsNames(cert: x509.X509Certificate): string[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (!san) return [];
  return san.names.items.filter((n) => n.type === "dns").map((n) => n.value);
}
