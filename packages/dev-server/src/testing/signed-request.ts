import { sign } from "node:crypto";
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Signer } from "@luci-machine-tokend/core";
import {
  type MachineTokenRequestSchema as InnerSchema,
  MachineTokenRequestSchema,
  MachineTokenType,
  type MintMachineTokenRequest,
  MintMachineTokenRequestSchema,
  SignatureAlgorithm,
} from "@luci-machine-tokend/core/gen";
import type { TestLeaf } from "../test-pki.js";

/** Options of {@link signedMintRequest}. */
export interface SignedMintRequestOptions {
  /** issued_at; default the real now. */
  now?: Date;
  /** Fields of the inner MachineTokenRequest to override. */
  inner?: Partial<MessageInitShape<typeof InnerSchema>>;
  /** Flip the first byte of the signature. */
  badSignature?: boolean;
}

/** A MintMachineTokenRequest for a test certificate, signed with its key like a tokend signs it. */
export function signedMintRequest(
  leaf: TestLeaf,
  options: SignedMintRequestOptions = {},
): MintMachineTokenRequest {
  const serializedTokenRequest = toBinary(
    MachineTokenRequestSchema,
    create(MachineTokenRequestSchema, {
      certificate: leaf.certDer,
      signatureAlgorithm: SignatureAlgorithm.SHA256_RSA_ALGO,
      issuedAt: timestampFromDate(options.now ?? new Date()),
      tokenType: MachineTokenType.LUCI_MACHINE_TOKEN,
      ...options.inner,
    }),
  );
  const signature = new Uint8Array(sign("sha256", serializedTokenRequest, leaf.keyPem));
  if (options.badSignature) signature[0] = (signature[0] ?? 0) ^ 0xff;
  return create(MintMachineTokenRequestSchema, { serializedTokenRequest, signature });
}

/** A core Signer for a test certificate (signs with its key, like createX509Signer). */
export function testSigner(leaf: TestLeaf, algorithm = SignatureAlgorithm.SHA256_RSA_ALGO): Signer {
  return {
    algorithm,
    certificateDer: leaf.certDer,
    sign: async (data) => new Uint8Array(sign("sha256", data, leaf.keyPem)),
  };
}
