import type { MachineTokenBody } from "../gen/tokenserver/machine_token_pb.js";

/** A machine token taken apart (nothing verified). */
export interface DecodedMachineToken {
  /** The signed body: FQDN, issuer, times, CA id, certificate serial. */
  body: MachineTokenBody;
  /** The exact body bytes that were signed. */
  bodyBytes: Uint8Array;
  /** Id of the token server key that signed the body. */
  keyId: string;
  /** RSASSA-PKCS1-v1_5 SHA-256 signature over `bodyBytes`. */
  signature: Uint8Array;
  /** When the token was issued (server clock). */
  issuedAt: Date;
  /** issued_at + lifetime. */
  expiresAt: Date;
  /** The certificate serial as lowercase hex (no leading zeros), e.g. `3039`. */
  certSerialHex: string;
}

/** A token that is not a LUCI machine token. */
export class MachineTokenFormatError extends Error {
  override name = "MachineTokenFormatError";
}
