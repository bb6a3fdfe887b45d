import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ErrorCode, ErrorCodeSchema } from "../gen/tokenserver/minter/token_minter_pb.js";
import { FIXED_OUTCOMES, UPDATE_REASONS } from "../token-file/outcome.js";
import { errorCodeName } from "./error-code-name.js";
import { MintTokenError } from "./mint-token-error.js";
import { failureFromCall, rpcFailure, tokenServerFailure } from "./mint-token-failure.js";
import { outcomeFromError } from "./outcome-from-error.js";
import { unusableResponse } from "./unusable-response.js";

describe("outcomeFromError", () => {
  it.each([1, 3, 4, 7, 12, 16])("gives GRPC_ERROR_%i for an rpc MintTokenError", (code) => {
    expect(outcomeFromError(rpcFailure(code as Code, "x"))).toBe(`GRPC_ERROR_${code}`);
  });

  // Go's tokenclient tags these codes as transient, which hides the RPCError from the check.
  it.each([Code.Unknown, Code.Internal, Code.Unavailable])(
    "gives UNKNOWN_RPC_ERROR for the transient code %i, as Go",
    (code) => {
      expect(outcomeFromError(rpcFailure(code, "x"))).toBe("UNKNOWN_RPC_ERROR");
      expect(outcomeFromError(new ConnectError("x", code))).toBe("UNKNOWN_RPC_ERROR");
    },
  );

  it("names token server errors from the generated enum", () => {
    for (const value of ErrorCodeSchema.values.filter((v) => v.number !== 0)) {
      const err = tokenServerFailure(value.number, "m", "sv");
      expect(outcomeFromError(err)).toBe(`MINT_TOKEN_ERROR_${value.name}`);
    }
    expect(outcomeFromError(tokenServerFailure(ErrorCode.BAD_TIMESTAMP, "m", "sv"))).toBe(
      "MINT_TOKEN_ERROR_BAD_TIMESTAMP",
    );
    expect(outcomeFromError(tokenServerFailure(ErrorCode.MACHINE_TOKEN_MINTING_ERROR, "", ""))).toBe(
      "MINT_TOKEN_ERROR_MACHINE_TOKEN_MINTING_ERROR",
    );
  });

  it("prints an unknown ErrorCode number as digits", () => {
    expect(outcomeFromError(tokenServerFailure(1234, "blah", ""))).toBe("MINT_TOKEN_ERROR_1234");
  });

  it("gives MALFORMED_RESPONSE for a response without the token oneof", () => {
    expect(outcomeFromError(new MintTokenError("bad response", { kind: "malformed" }))).toBe(
      "MALFORMED_RESPONSE",
    );
  });

  it("gives UNKNOWN_RPC_ERROR for SUCCESS without a token and for arbitrary errors", () => {
    expect(outcomeFromError(new MintTokenError("no token", { kind: "no-token" }))).toBe("UNKNOWN_RPC_ERROR");
    expect(outcomeFromError(new Error("boom"))).toBe("UNKNOWN_RPC_ERROR");
    expect(outcomeFromError("boom")).toBe("UNKNOWN_RPC_ERROR");
    expect(outcomeFromError(undefined)).toBe("UNKNOWN_RPC_ERROR");
  });

  it("gives GRPC_ERROR_<code> for a bare ConnectError, recognised without loading Connect", () => {
    expect(outcomeFromError(new ConnectError("x", Code.PermissionDenied))).toBe("GRPC_ERROR_7");
    expect(outcomeFromError(new ConnectError("x", Code.Unimplemented))).toBe("GRPC_ERROR_12");
    // A ConnectError of another copy of Connect, as Connect's own instanceof accepts it.
    const foreign = Object.assign(new Error("x"), { name: "ConnectError", code: Code.Aborted });
    expect(outcomeFromError(foreign)).toBe("GRPC_ERROR_10");
    expect(outcomeFromError(Object.assign(new Error("x"), { code: Code.Aborted }))).toBe("UNKNOWN_RPC_ERROR");
  });

  it("names the ErrorCode of a MintTokenError made by hand by its number", () => {
    const err = new MintTokenError("m", { kind: "token-server", errorCode: 1234 });
    expect([err.errorCodeName, outcomeFromError(err)]).toEqual(["1234", "MINT_TOKEN_ERROR_1234"]);
  });

  // Go wraps these (codes 13 and 14) before its check and writes UNKNOWN_RPC_ERROR; the code
  // stays in the error and its message (failure_error).
  it("gives UNKNOWN_RPC_ERROR for an unusable reply, bare or as a MintTokenError, keeping the code", () => {
    const tooBig = unusableResponse("prpc: the response size exceeds the client limit 1", Code.Unavailable);
    expect(outcomeFromError(tooBig)).toBe("UNKNOWN_RPC_ERROR");
    const err = failureFromCall(tooBig);
    expect([err.kind, err.grpcCode, outcomeFromError(err)]).toEqual([
      "bad-reply",
      Code.Unavailable,
      "UNKNOWN_RPC_ERROR",
    ]);
    expect(err.message).toMatch(/^rpc error: code = Unavailable desc = /);
  });
});

describe("MintTokenError and the failures of a call", () => {
  it("words rpc errors like Go's status errors", () => {
    const err = rpcFailure(
      Code.DeadlineExceeded,
      "prpc: overall deadline exceeded: context deadline exceeded",
    );
    expect(err.message).toBe(
      "rpc error: code = DeadlineExceeded desc = prpc: overall deadline exceeded: context deadline exceeded",
    );
    expect(err).toMatchObject({ kind: "rpc", grpcCode: 4, name: "MintTokenError" });
  });

  it("words token server errors like Go's tokenclient", () => {
    expect(tokenServerFailure(1234, "blah", "").message).toBe("token server error 1234 - blah");
    const err = tokenServerFailure(3, "", "sv/1");
    expect(err.message).toBe("token server error BAD_TIMESTAMP - no detailed error message");
    expect(err).toMatchObject({
      kind: "token-server",
      grpcCode: 0,
      errorCode: 3,
      errorCodeName: "BAD_TIMESTAMP",
      serviceVersion: "sv/1",
    });
  });

  it("turns any call error into an rpc error (non-Connect errors as INTERNAL)", () => {
    const fromConnect = failureFromCall(new ConnectError("denied", Code.PermissionDenied));
    expect(fromConnect.message).toBe("rpc error: code = PermissionDenied desc = denied");
    const fromPlain = failureFromCall(new TypeError("socket hang up"));
    expect(fromPlain.grpcCode).toBe(Code.Internal);
    expect(fromPlain.message).toContain("socket hang up");
    const same = rpcFailure(Code.Aborted, "x");
    expect(failureFromCall(same)).toBe(same);
  });

  it("errorCodeName uses the generated enum names", () => {
    expect(errorCodeName(0)).toBe("SUCCESS");
    expect(errorCodeName(6)).toBe("UNTRUSTED_CERTIFICATE");
    expect(errorCodeName(99)).toBe("99");
  });
});

describe("outcome and reason lists", () => {
  it("are Go's complete lists", () => {
    expect([...FIXED_OUTCOMES].sort()).toEqual(
      [
        "TOKEN_IS_GOOD",
        "UPDATE_SUCCESS",
        "CANT_READ_KEY",
        "MALFORMED_RESPONSE",
        "UNKNOWN_RPC_ERROR",
        "SAVE_TOKEN_PERM_ERROR",
        "UNKNOWN_SAVE_TOKEN_ERROR",
      ].sort(),
    );
    expect([...UPDATE_REASONS].sort()).toEqual(
      [
        "TOKEN_IS_GOOD",
        "NEW_TOKEN",
        "TOKEN_EXPIRES",
        "PARAMS_CHANGE",
        "MISSING_TOKEN_COPY",
        "FORCE_REFRESH",
      ].sort(),
    );
  });
});
