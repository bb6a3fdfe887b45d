import { commonName, type ParsedCertificate, parseCertificatePem } from "./parse-certificate.js";
import { x509 } from "./x509.js";

/** Which machines a CA may vouch for, and for how long their tokens live (LUCI's DomainConfig). */
export interface DomainConfig {
  /** Domains; a machine matches an entry equal to its domain or a parent of it. */
  domains: string[];
  /** machine_token_lifetime in whole seconds; <= 0 forbids tokens for these domains. */
  lifetimeSeconds: number;
}

/** A configured CA (LUCI's CertificateAuthorityConfig) with its parsed certificate. */
export interface TrustedCa {
  /** unique_id, copied into tokens as ca_id. */
  id: bigint;
  /** Subject CN: machine certificates find their CA by issuer CN. */
  commonName: string;
  certificate: ParsedCertificate;
  /** Domain configs in order; the first match wins. */
  domains: DomainConfig[];
  /** Serials revoked by this CA's CRLs. */
  revoked: Set<bigint>;
}

/** The CAs the server trusts, keyed by CN, plus serials revoked regardless of CA. */
export interface TrustStore {
  byCommonName: Map<string, TrustedCa>;
  revokedAnyCa: Set<bigint>;
}

/** Input of {@link createTrustStore}. */
export interface TrustStoreInput {
  cas: Array<{ certPem: string; id: bigint; domains: DomainConfig[] }>;
  /** Serials revoked whatever CA issued them (the plain-list CRL format). */
  revokedSerials: bigint[];
  /** X.509 CRLs (PEM blocks); each must be signed by the configured CA named as its issuer. */
  crlPems: string[];
}

/** Builds the trust store, checking every CRL's signature against its CA. Throws on bad config. */
export async function createTrustStore(input: TrustStoreInput): Promise<TrustStore> {
  const byCommonName = new Map<string, TrustedCa>();
  for (const ca of input.cas) {
    const certificate = parseCertificatePem(ca.certPem);
    const cn = commonName(certificate.cert.subjectName);
    if (cn === "") throw new Error("CA certificate without a Subject CN");
    if (byCommonName.has(cn)) throw new Error(`two CA certificates with the CN ${JSON.stringify(cn)}`);
    byCommonName.set(cn, { id: ca.id, commonName: cn, certificate, domains: ca.domains, revoked: new Set() });
  }
  for (const pem of input.crlPems) {
    const crl = new x509.X509Crl(pem);
    const issuerCn = commonName(crl.issuerName);
    const ca = byCommonName.get(issuerCn);
    if (!ca) throw new Error(`CRL issued by ${JSON.stringify(crl.issuer)}, which is not a configured CA`);
    if (!(await crl.verify({ publicKey: ca.certificate.cert }))) {
      throw new Error(`CRL of ${JSON.stringify(issuerCn)} has a bad signature`);
    }
    for (const entry of crl.entries) ca.revoked.add(BigInt(`0x${entry.serialNumber}`));
  }
  return { byCommonName, revokedAnyCa: new Set(input.revokedSerials) };
}
