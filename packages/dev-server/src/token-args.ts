import { machineFqdn } from "@luci-machine-tokend/core/internal";
import { commonName, dnsNames, type ParsedCertificate } from "./parse-certificate.js";
import type { TrustedCa } from "./trust-store.js";

/** What a valid request mints: the machine, its domain's lifetime, and the certificate serial. */
export interface TokenArgs {
  fqdn: string;
  domain: string;
  lifetimeSeconds: number;
  serial: bigint;
}

/** Checks the token arguments in LUCI's order, with LUCI's messages (BAD_TOKEN_ARGUMENTS). */
export function checkTokenArgs(cert: ParsedCertificate, ca: TrustedCa): TokenArgs | { error: string } {
  // The same derivation `luci-machine-tokend check` shows operators (luci-go rpc_mint_machine_token.go).
  const derived = machineFqdn(commonName(cert.cert.subjectName), dnsNames(cert.cert));
  if (derived.error !== undefined) return { error: derived.error };
  const { fqdn, domain } = derived;
  const config = ca.domains.find((c) => c.domains.some((d) => domain === d || domain.endsWith(`.${d}`)));
  if (!config) return { error: `the domain ${JSON.stringify(domain)} is not listed in the config` };
  if (config.lifetimeSeconds <= 0) {
    return { error: `machine tokens for machines in domain ${JSON.stringify(domain)} are not allowed` };
  }
  if (cert.serial <= 0n) return { error: `invalid certificate serial number: ${cert.serial}` };
  return { fqdn, domain, lifetimeSeconds: config.lifetimeSeconds, serial: cert.serial };
}
