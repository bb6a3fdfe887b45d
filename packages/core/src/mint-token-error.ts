import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorCodeSchema } from "./gen/tokenserver/minter/token_minter_pb.js";
import { escapeForLog, MAX_MESSAGE_TEXT } from "./one-line.js";
import { isUnusableResponse } from "./unusable-response.js";

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
  /** The server's `<app-id>/<version>`, when its answer carried one. */
  serviceVersion?: string;
  cause?: unknown;
}

/** Longest service version kept: App Engine's `<app-id>/<version>` is under 100 characters. */
const MAX_SERVICE_VERSION = 256;

/** A service version from the server, as one printable line of bounded length. */
export function printableServiceVersion(version: string): string {
  return escapeForLog(version, MAX_SERVICE_VERSION);
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

  /**
   * An RPC that failed with a gRPC code, worded like Go's status errors (`Code(17)` for codes
   * without a name). The description, which may come from the server, is escaped to one line.
   */
  static rpc(
    code: Code,
    description: string,
    cause?: unknown,
    kind: "rpc" | "bad-reply" = "rpc",
  ): MintTokenError {
    const name = GO_CODE_NAMES[code] ?? `Code(${code})`;
    const text = escapeForLog(description, MAX_MESSAGE_TEXT);
    return new MintTokenError(`rpc error: code = ${name} desc = ${text}`, { kind, grpcCode: code, cause });
  }

  /** A logic error answered by the token server; its message and version are escaped to one line. */
  static tokenServer(errorCode: number, message: string, serviceVersion: string): MintTokenError {
    const text = message === "" ? "no detailed error message" : escapeForLog(message);
    return new MintTokenError(`token server error ${errorCodeName(errorCode)} - ${text}`, {
      kind: "token-server",
      errorCode,
      serviceVersion: printableServiceVersion(serviceVersion),
    });
  }

  /**
   * Any error of a call as a MintTokenError: `bad-reply` for an unusable reply, `rpc` otherwise
   * (non-Connect errors count as INTERNAL).
   */
  static fromCall(err: unknown): MintTokenError {
    if (err instanceof MintTokenError) return err;
    const ce =
      err instanceof ConnectError
        ? err
        : new ConnectError(String(err), Code.Internal, undefined, undefined, err);
    return MintTokenError.rpc(ce.code, ce.rawMessage, err, isUnusableResponse(err) ? "bad-reply" : "rpc");
  }
}
