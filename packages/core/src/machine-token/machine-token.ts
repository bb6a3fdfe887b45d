import { fromBinary } from "@bufbuild/protobuf";
import { errorMessage } from "../common/fs-errors.js";
import {
  type MachineTokenBody,
  MachineTokenBodySchema,
  MachineTokenEnvelopeSchema,
} from "../gen/tokenserver/machine_token_pb.js";
import { type DecodedMachineToken, MachineTokenFormatError } from "./decoded-machine-token.js";

/**
 * {@link decodeMachineToken}'s work, synchronous: a LUCI machine token (unpadded standard base64
 * of a MachineTokenEnvelope) taken apart with protobuf-es, nothing verified.
 *
 * @throws MachineTokenFormatError
 */
export function parseMachineToken(token: string): DecodedMachineToken {
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
    throw new MachineTokenFormatError(`not a machine token: ${errorMessage(err)}`, { cause: err });
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
