import { Code, ConnectError } from "@connectrpc/connect";
import { escapeForLog, MAX_MESSAGE_TEXT } from "../common/one-line.js";
import { errorCodeName } from "./error-code-name.js";
import { MintTokenError } from "./mint-token-error.js";
import { isUnusableResponse } from "./unusable-response.js";

/** Longest service version kept: App Engine's `<app-id>/<version>` is under 100 characters. */
const MAX_SERVICE_VERSION = 256;

/** A service version from the server, as one printable line of bounded length. */
export function printableServiceVersion(version: string): string {
  return escapeForLog(version, MAX_SERVICE_VERSION);
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
 * An RPC that failed with a gRPC code, worded like Go's status errors (`Code(17)` for codes
 * without a name). The description, which may come from the server, is escaped to one line.
 */
export function rpcFailure(
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
export function tokenServerFailure(
  errorCode: number,
  message: string,
  serviceVersion: string,
): MintTokenError {
  const text = message === "" ? "no detailed error message" : escapeForLog(message);
  const name = errorCodeName(errorCode);
  return new MintTokenError(`token server error ${name} - ${text}`, {
    kind: "token-server",
    errorCode,
    errorCodeName: name,
    serviceVersion: printableServiceVersion(serviceVersion),
  });
}

/**
 * Any error of a call as a MintTokenError: `bad-reply` for an unusable reply, `rpc` otherwise
 * (non-Connect errors count as INTERNAL).
 */
export function failureFromCall(err: unknown): MintTokenError {
  if (err instanceof MintTokenError) return err;
  const ce =
    err instanceof ConnectError
      ? err
      : new ConnectError(String(err), Code.Internal, undefined, undefined, err);
  return rpcFailure(ce.code, ce.rawMessage, err, isUnusableResponse(err) ? "bad-reply" : "rpc");
}
