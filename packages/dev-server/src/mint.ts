import { create, toBinary } from "@bufbuild/protobuf";
import { MachineTokenBodySchema, MachineTokenEnvelopeSchema } from "@luci-machine-tokend/core/gen";
import { serialBytes } from "./serial.js";
import type { SigningKey } from "./signing-key.js";

/** Inputs of {@link mintMachineToken}. */
export interface MintInput {
  fqdn: string;
  /** Service account email of the token server. */
  issuedBy: string;
  /** Server time; truncated to whole seconds. */
  now: Date;
  lifetimeSeconds: number;
  caId: bigint;
  serial: bigint;
}

/** A minted token and when it expires. */
export interface MintedToken {
  /** Standard base64 without padding of the MachineTokenEnvelope. */
  token: string;
  /** issued_at + lifetime, whole seconds. */
  expiry: Date;
  issuedAt: bigint;
}

/**
 * Builds a LUCI machine token (luci-go machinetoken.go): MachineTokenBody, signed with RSA-SHA256
 * by the server key with an empty signing context, wrapped in a MachineTokenEnvelope.
 */
export async function mintMachineToken(input: MintInput, key: SigningKey): Promise<MintedToken> {
  const issuedAt = BigInt(Math.floor(input.now.getTime() / 1000));
  const lifetime = BigInt(input.lifetimeSeconds);
  const tokenBody = toBinary(
    MachineTokenBodySchema,
    create(MachineTokenBodySchema, {
      machineFqdn: input.fqdn,
      issuedBy: input.issuedBy,
      issuedAt,
      lifetime,
      caId: input.caId,
      certSn: serialBytes(input.serial),
    }),
  );
  const envelope = toBinary(
    MachineTokenEnvelopeSchema,
    create(MachineTokenEnvelopeSchema, { tokenBody, keyId: key.keyId, rsaSha256: await key.sign(tokenBody) }),
  );
  return {
    token: Buffer.from(envelope).toString("base64").replace(/=+$/, ""),
    expiry: new Date(Number((issuedAt + lifetime) * 1000n)),
    issuedAt,
  };
}
