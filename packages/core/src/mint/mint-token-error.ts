import type { Code } from "@connectrpc/connect";

/**
 * How minting failed:
 * - `rpc`: the call failed with a gRPC code (transport, protocol, deadline, cancellation);
 * - `token-server`: the server answered with a LUCI ErrorCode (a logic error);
 * - `bad-reply`: a reply arrived but cannot be used (wrong Content-Type, undecodable, too big);
 * - `no-token`: the server answered SUCCESS without a token_response;
 * - `malformed`: the token_response has no usable luci_machine_token (missing, empty, not
 *   base64, too long, or an expiry that is not a valid timestamp).
 */
export type MintTokenErrorKind = "rpc" | "token-server" | "bad-reply" | "no-token" | "malformed";

/** Fields of a {@link MintTokenError}. */
export interface MintTokenErrorInit {
  kind: MintTokenErrorKind;
  /** gRPC code of an `rpc` or `bad-reply` failure; 0 otherwise. */
  grpcCode?: Code | 0;
  /** The LUCI ErrorCode number of a `token-server` failure. */
  errorCode?: number;
  /** The name of `errorCode` in LUCI's enum (`BAD_TIMESTAMP`); default its digits. */
  errorCodeName?: string;
  /** The server's `<app-id>/<version>`, when its answer carried one. */
  serviceVersion?: string;
  cause?: unknown;
}

/**
 * Why a MintMachineToken call did not produce a token. Its message is the text Go tokend puts in
 * `failure_error`: `rpc error: code = … desc = …` or `token server error <NAME> - <message>`.
 * Loading it loads neither Connect nor protobuf: `instanceof` checks cost nothing.
 */
export class MintTokenError extends Error {
  override name = "MintTokenError";
  /** How minting failed. */
  readonly kind: MintTokenErrorKind;
  /** gRPC code of an `rpc` or `bad-reply` failure; 0 otherwise. */
  readonly grpcCode: Code | 0;
  /** The LUCI ErrorCode number of a `token-server` failure. */
  readonly errorCode: number | undefined;
  /** The name of {@link errorCode} (`BAD_TIMESTAMP`), or its digits for a number LUCI's enum lacks. */
  readonly errorCodeName: string | undefined;
  /** The server's `<app-id>/<version>`, when its answer carried one. */
  readonly serviceVersion: string | undefined;

  constructor(message: string, init: MintTokenErrorInit) {
    super(message, { cause: init.cause });
    this.kind = init.kind;
    this.grpcCode = init.grpcCode ?? 0;
    this.errorCode = init.errorCode;
    this.errorCodeName =
      init.errorCodeName ?? (init.errorCode === undefined ? undefined : String(init.errorCode));
    this.serviceVersion = init.serviceVersion;
  }
}
