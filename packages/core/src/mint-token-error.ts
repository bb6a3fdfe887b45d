import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorCodeSchema } from "./gen/tokenserver/minter/token_minter_pb.js";

/**
 * How minting failed:
 * - `rpc`: the call failed with a gRPC code (transport, protocol, deadline, cancellation);
 * - `token-server`: the server answered with a LUCI ErrorCode (a logic error);
 * - `no-token`: the server answered SUCCESS without a token_response;
 * - `malformed`: the token_response has no luci_machine_token.
 */
export type MintTokenErrorKind = "rpc" | "token-server" | "no-token" | "malformed";

/** Fields of a {@link MintTokenError}. */
export interface MintTokenErrorInit {
  kind: MintTokenErrorKind;
  /** gRPC code of an `rpc` failure; 0 otherwise. */
  grpcCode?: Code | 0;
  /** The LUCI ErrorCode number of a `token-server` failure. */
  errorCode?: number;
  /** The server's `<app-id>/<version>`, when its answer carried one. */
  serviceVersion?: string;
  cause?: unknown;
}

/** The name of a LUCI ErrorCode, from the generated enum; unknown numbers print as digits. */
export function errorCodeName(code: number): string {
  return ErrorCodeSchema.values.find((v) => v.number === code)?.name ?? String(code);
}

/** Go's spelling of gRPC codes in `rpc error: code = <Name> desc = …`. */
const GO_CODE_NAMES: Record<number, string> = {
  0: "OK",
  [Code.Canceled]: "Canceled",
  [Code.Unknown]: "Unknown",
  [Code.InvalidArgument]: "InvalidArgument",
  [Code.DeadlineExceeded]: "DeadlineExceeded",
  [Code.NotFound]: "NotFound",
  [Code.AlreadyExists]: "AlreadyExists",
  [Code.PermissionDenied]: "PermissionDenied",
  [Code.ResourceExhausted]: "ResourceExhausted",
  [Code.FailedPrecondition]: "FailedPrecondition",
  [Code.Aborted]: "Aborted",
  [Code.OutOfRange]: "OutOfRange",
  [Code.Unimplemented]: "Unimplemented",
  [Code.Internal]: "Internal",
  [Code.Unavailable]: "Unavailable",
  [Code.DataLoss]: "DataLoss",
  [Code.Unauthenticated]: "Unauthenticated",
};

/**
 * Why a MintMachineToken call did not produce a token. Its message is the text Go tokend puts in
 * `failure_error`: `rpc error: code = … desc = …` or `token server error <NAME> - <message>`.
 */
export class MintTokenError extends Error {
  override name = "MintTokenError";
  readonly kind: MintTokenErrorKind;
  readonly grpcCode: Code | 0;
  readonly errorCode: number | undefined;
  readonly serviceVersion: string | undefined;

  constructor(message: string, init: MintTokenErrorInit) {
    super(message, { cause: init.cause });
    this.kind = init.kind;
    this.grpcCode = init.grpcCode ?? 0;
    this.errorCode = init.errorCode;
    this.serviceVersion = init.serviceVersion;
  }

  /** An RPC that failed with a gRPC code, worded like Go's status errors. */
  static rpc(code: Code, description: string, cause?: unknown): MintTokenError {
    const name = GO_CODE_NAMES[code] ?? `Code(${code})`;
    return new MintTokenError(`rpc error: code = ${name} desc = ${description}`, {
      kind: "rpc",
      grpcCode: code,
      cause,
    });
  }

  /** A logic error answered by the token server. */
  static tokenServer(errorCode: number, message: string, serviceVersion: string): MintTokenError {
    const text = message === "" ? "no detailed error message" : message;
    return new MintTokenError(`token server error ${errorCodeName(errorCode)} - ${text}`, {
      kind: "token-server",
      errorCode,
      serviceVersion,
    });
  }

  /** Any error of a call, as an `rpc` MintTokenError (non-Connect errors count as INTERNAL). */
  static fromCall(err: unknown): MintTokenError {
    if (err instanceof MintTokenError) return err;
    const ce =
      err instanceof ConnectError
        ? err
        : new ConnectError(String(err), Code.Internal, undefined, undefined, err);
    return MintTokenError.rpc(ce.code, ce.rawMessage, err);
  }
}
