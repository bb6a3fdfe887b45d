import { commonName, dnsNames, type ParsedCertificate } from "./parse-certificate.js";
import type { TrustedCa } from "./trust-store.js";

/** What a valid request mints: the machine, its domain's lifetime, and the certificate serial. */
export interface TokenArgs {
  fqdn: string;
  domain: string;
  lifetimeSeconds: number;
  serial: bigint;
}

/**
 * The machine FQDN LUCI derives from a certificate: the lowercased Subject CN, or the first SAN
 * DNS name that starts with `<cn>.` (reference §7.3).
 */
export function machineFqdn(cert: ParsedCertificate): { fqdn: string } | { error: string } {
  const cn = commonName(cert.cert.subjectName).toLowerCase();
  if (cn === "") return { error: "unsupported cert, Subject CN field is required" };
  const san = dnsNames(cert.cert)
    .map((n) => n.toLowerCase())
    .find((n) => n.startsWith(`${cn}.`));
  return { fqdn: san ?? cn };
}

/** Checks the token arguments in LUCI's order, with LUCI's messages (BAD_TOKEN_ARGUMENTS). */
export function checkTokenArgs(cert: ParsedCertificate, ca: TrustedCa): TokenArgs | { error: string } {
  const derived = machineFqdn(cert);
  if ("error" in derived) return derived;
  const { fqdn } = derived;
  const dot = fqdn.indexOf(".");
  if (dot < 0) return { error: `not a valid FQDN ${JSON.stringify(fqdn)}` };
  const domain = fqdn.slice(dot + 1);
  const config = ca.domains.find((c) => c.domains.some((d) => domain === d || domain.endsWith(`.${d}`)));
  if (!config) return { error: `the domain ${JSON.stringify(domain)} is not listed in the config` };
  if (config.lifetimeSeconds <= 0) {
    return { error: `machine tokens for machines in domain ${JSON.stringify(domain)} are not allowed` };
  }
  if (cert.serial <= 0n) return { error: `invalid certificate serial number: ${cert.serial}` };
  return { fqdn, domain, lifetimeSeconds: config.lifetimeSeconds, serial: cert.serial };
}
