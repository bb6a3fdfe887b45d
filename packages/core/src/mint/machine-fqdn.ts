/** The machine identity the token server derives from a certificate, or why it would refuse it. */
export type MachineFqdn = { fqdn: string; domain: string; error?: undefined } | { error: string };

/**
 * Derives the machine FQDN as the LUCI Token Server does: the lowercased Subject CN, replaced by
 * the first SAN DNS name that starts with `<cn>.`; it must contain a dot, and the domain is what
 * follows the first dot. Errors carry the server's words.
 */
export function machineFqdn(commonName: string, dnsNames: readonly string[]): MachineFqdn {
  const cn = commonName.toLowerCase();
  if (cn === "") return { error: "unsupported cert, Subject CN field is required" };
  const fqdn = dnsNames.map((n) => n.toLowerCase()).find((n) => n.startsWith(`${cn}.`)) ?? cn;
  const dot = fqdn.indexOf(".");
  if (dot < 0) return { error: `not a valid FQDN ${JSON.stringify(fqdn)}` };
  return { fqdn, domain: fqdn.slice(dot + 1) };
}

/** The Subject CN and SAN DNS names of a node:crypto X509Certificate's text fields. */
export function certificateNames(
  subject: string,
  subjectAltName: string | undefined,
): { commonName: string; dnsNames: string[] } {
  // One RDN per line, the attributes of a multi-valued RDN joined by " + ". With several CNs the
  // last one counts, as in Go's pkix.Name (which the token server reads).
  const commonNames = subject
    .split("\n")
    .flatMap((rdn) => rdn.split(" + "))
    .filter((ava) => ava.startsWith("CN="))
    .map((ava) => ava.slice(3));
  const commonName = commonNames.at(-1) ?? "";
  const dnsNames = (subjectAltName ?? "")
    .split(/,\s*/)
    .filter((n) => n.startsWith("DNS:"))
    .map((n) => n.slice(4));
  return { commonName, dnsNames };
}
