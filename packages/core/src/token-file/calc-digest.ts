import { createHash } from "node:crypto";

const encoder = new TextEncoder();

/**
 * The inputs digest stored in `tokend_state`: lowercase hex SHA-1 over every key in byte order,
 * each as `<key>\n<byte length>\n<value>`. Byte-identical to Go tokend, which passes `backend`,
 * `cert`, `pkey` and `forceBump` (the single byte 0x01) — see {@link tokendDigestInputs}.
 */
export function calcDigest(inputs: Record<string, Uint8Array | string>): string {
  const hash = createHash("sha1");
  const keys = Object.keys(inputs).sort(compareBytes);
  for (const key of keys) {
    const raw = inputs[key] ?? "";
    const value = typeof raw === "string" ? encoder.encode(raw) : raw;
    hash.update(encoder.encode(`${key}\n${value.length}\n`));
    hash.update(value);
  }
  return hash.digest("hex");
}

/** The byte that Go tokend mixes in to force every machine to refresh once (0x01 since 2016). */
export const FORCE_BUMP = new Uint8Array([1]);

/**
 * The inputs Go tokend digests: the backend as typed and the raw bytes of both PEM files, so any
 * change (even whitespace) refreshes the token.
 */
export function tokendDigestInputs(inputs: {
  backend: string;
  certPem: Uint8Array;
  keyPem: Uint8Array;
}): Record<string, Uint8Array | string> {
  return { backend: inputs.backend, cert: inputs.certPem, forceBump: FORCE_BUMP, pkey: inputs.keyPem };
}

/** Orders strings by their UTF-8 bytes, as Go's sort.Strings does. */
function compareBytes(a: string, b: string): number {
  const ab = encoder.encode(a);
  const bb = encoder.encode(b);
  const n = Math.min(ab.length, bb.length);
  for (let i = 0; i < n; i++) {
    const d = (ab[i] ?? 0) - (bb[i] ?? 0);
    if (d !== 0) return d;
  }
  return ab.length - bb.length;
}
