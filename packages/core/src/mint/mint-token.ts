import type { MintedToken, MintTokenOptions } from "./mint-token-options.js";

export type { MintedToken, MintTokenOptions, TokenMinterClient } from "./mint-token-options.js";

/** mintToken's implementation, loaded at the first call: it needs protobuf-es and Connect. */
let rpc: Promise<typeof import("./mint-token-rpc.js")> | undefined;

/**
 * Mints a LUCI machine token: builds a MachineTokenRequest (certificate DER, SHA256_RSA_ALGO,
 * issued_at = now with sub-second precision, LUCI_MACHINE_TOKEN), signs its exact serialized bytes
 * and calls TokenMinter.MintMachineToken, retrying transient failures with backoff until the
 * deadline. Throws a {@link MintTokenError}: after the deadline with DEADLINE_EXCEEDED, after an
 * abort with CANCELED, whatever the last attempt's error was (as Go's client does).
 *
 * protobuf-es and Connect are loaded at the first call, not with the package.
 */
export async function mintToken(options: MintTokenOptions): Promise<MintedToken> {
  rpc ??= import("./mint-token-rpc.js");
  const { mintTokenRpc } = await rpc;
  return mintTokenRpc(options);
}
