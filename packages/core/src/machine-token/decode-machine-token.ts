import type { DecodedMachineToken } from "./decoded-machine-token.js";

export { type DecodedMachineToken, MachineTokenFormatError } from "./decoded-machine-token.js";

/** The parser, loaded at the first call: it needs protobuf-es. */
let parser: Promise<typeof import("./machine-token.js")> | undefined;

/**
 * Decodes a LUCI machine token (unpadded standard base64 of a MachineTokenEnvelope) without
 * checking its signature: for display, and for {@link verifyMachineToken}. Rejects with a
 * {@link MachineTokenFormatError}. The protobuf runtime is loaded at the first call.
 */
export async function decodeMachineToken(token: string): Promise<DecodedMachineToken> {
  parser ??= import("./machine-token.js");
  const { parseMachineToken } = await parser;
  return parseMachineToken(token);
}
