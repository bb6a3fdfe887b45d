import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { grpcCodeFromHttpStatus, httpStatusFromGrpcCode } from "./http-status.js";

describe("httpStatusFromGrpcCode", () => {
  it("maps every gRPC code as LUCI's pRPC server does", () => {
    const expected = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];
    expect(expected.map((_, code) => httpStatusFromGrpcCode(code))).toEqual(expected);
    expect(httpStatusFromGrpcCode(99)).toBe(500);
  });
});

describe("grpcCodeFromHttpStatus", () => {
  it("keeps 401, 403 and 503 and calls everything else INTERNAL", () => {
    expect(grpcCodeFromHttpStatus(401)).toBe(Code.Unauthenticated);
    expect(grpcCodeFromHttpStatus(403)).toBe(Code.PermissionDenied);
    expect(grpcCodeFromHttpStatus(503)).toBe(Code.Unavailable);
    for (const status of [200, 302, 400, 404, 429, 500, 502, 504]) {
      expect(grpcCodeFromHttpStatus(status)).toBe(Code.Internal);
    }
  });
});
