import { fromBinary } from "@bufbuild/protobuf";
import {
  type MachineTokenBody,
  MachineTokenBodySchema,
  MachineTokenEnvelopeSchema,
} from "./gen/tokenserver/machine_token_pb.js";

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

/**
 * Decodes a LUCI machine token (unpadded standard base64 of a MachineTokenEnvelope) without
 * checking its signature: for display and for {@link verifyMachineToken}.
 */
export function decodeMachineToken(token: string): DecodedMachineToken {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) {
    throw new MachineTokenFormatError("not a machine token: expecting standard base64");
  }
  let bodyBytes: Uint8Array;
  let keyId: string;
  let signature: Uint8Array;
  let body: MachineTokenBody;
  try {
    const envelope = fromBinary(MachineTokenEnvelopeSchema, new Uint8Array(Buffer.from(token, "base64")));
    ({ tokenBody: bodyBytes, keyId, rsaSha256: signature } = envelope);
    body = fromBinary(MachineTokenBodySchema, bodyBytes);
  } catch (err) {
    throw new MachineTokenFormatError(`not a machine token: ${(err as Error).message}`, { cause: err });
  }
  if (body.machineFqdn === "" || body.issuedAt === 0n) {
    throw new MachineTokenFormatError("not a machine token: the body has no machine_fqdn or issued_at");
  }
  const issuedMs = Number(body.issuedAt) * 1000;
  return {
    body,
    bodyBytes,
    keyId,
    signature,
    issuedAt: new Date(issuedMs),
    expiresAt: new Date(issuedMs + Number(body.lifetime) * 1000),
    certSerialHex: Buffer.from(body.certSn)
      .toString("hex")
      .replace(/^0+(?=.)/, ""),
  };
}
