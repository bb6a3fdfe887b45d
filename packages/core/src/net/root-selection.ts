import { certificateNames } from "./certificate-names.js";

/**
 * Picks out of the trust roots (DER) those a verifier could use for a given chain: the roots whose
 * subject is the issuer or subject of a certificate of the chain, then the roots naming their
 * issuers, and so on (a root store may hold intermediates). Names are compared as bytes, as Go's
 * CertPool compares RawIssuer with RawSubject. The roots are indexed by subject at the first call.
 */
export function createRootSelector(roots: readonly Uint8Array[]): { select(chain: Uint8Array[]): number[] } {
  let bySubject: Map<string, number[]> | undefined;
  const issuers: Array<string | undefined> = [];
  const index = () => {
    const map = new Map<string, number[]>();
    for (const [i, der] of roots.entries()) {
      const names = certificateNames(der);
      issuers[i] = names?.issuer.toString("latin1");
      if (!names) continue; // Go's pool skips a certificate that does not parse
      const subject = names.subject.toString("latin1");
      const list = map.get(subject);
      if (list) list.push(i);
      else map.set(subject, [i]);
    }
    return map;
  };
  return {
    /** The indexes of the roots the chain may need, in no particular order. */
    select(chain: Uint8Array[]): number[] {
      bySubject ??= index();
      const wanted: string[] = [];
      for (const der of chain) {
        const names = certificateNames(der);
        if (names) wanted.push(names.issuer.toString("latin1"), names.subject.toString("latin1"));
      }
      const picked = new Set<number>();
      for (let name = wanted.pop(); name !== undefined; name = wanted.pop()) {
        for (const i of bySubject.get(name) ?? []) {
          if (picked.has(i)) continue;
          picked.add(i);
          const issuer = issuers[i];
          if (issuer !== undefined) wanted.push(issuer);
        }
      }
      return [...picked];
    },
  };
}
