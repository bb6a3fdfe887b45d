import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { validatePrpcResponse } from "./validate-response.js";

const body = (s: string) => new TextEncoder().encode(s);
const h = (init: Record<string, string>) => new Headers(init);
const BIN = "application/prpc; encoding=binary";

describe("validatePrpcResponse", () => {
  it("accepts code 0 with a binary content type", () => {
    expect(
      validatePrpcResponse(200, h({ "X-Prpc-Grpc-Code": "0", "Content-Type": BIN }), body("")),
    ).toBeUndefined();
    expect(validatePrpcResponse(200, h({ "x-prpc-grpc-code": "0" }), body(""))).toBeUndefined();
  });

  it("rejects code 0 with another content type as INTERNAL", () => {
    const err = validatePrpcResponse(
      200,
      h({ "X-Prpc-Grpc-Code": "0", "Content-Type": "application/json" }),
      body("{}"),
    );
    expect(err?.code).toBe(Code.Internal);
    expect(err?.rawMessage).toMatch(
      /output format "application\/json" doesn't match expected format "binary"/,
    );
  });

  it("gives the header's code with the body, minus one trailing newline, ignoring the HTTP status", () => {
    const err = validatePrpcResponse(200, h({ "X-Prpc-Grpc-Code": "7" }), body("denied\n\n"));
    expect(err).toBeInstanceOf(ConnectError);
    expect(err?.code).toBe(Code.PermissionDenied);
    expect(err?.rawMessage).toBe("denied\n");
  });

  it.each(["abc", "-1", "1.5", "17", ""])("gives INTERNAL for a code header %j", (value) => {
    expect(validatePrpcResponse(200, h({ "X-Prpc-Grpc-Code": value }), body(""))?.code).toBe(Code.Internal);
  });

  it("maps statuses of responses without the header", () => {
    const code = (status: number) => validatePrpcResponse(status, h({}), body("x"))?.code;
    expect(code(401)).toBe(Code.Unauthenticated);
    expect(code(403)).toBe(Code.PermissionDenied);
    expect(code(503)).toBe(Code.Unavailable);
    expect(code(502)).toBe(Code.Internal);
    expect(code(500)).toBe(Code.Internal);
    expect(code(404)).toBe(Code.Internal);
    expect(code(200)).toBe(Code.Internal);
  });

  it("reduces an HTML proxy page to its text", () => {
    const page =
      "<html><head><style>p{}</style></head><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>";
    expect(validatePrpcResponse(502, h({}), body(page))?.rawMessage).toBe("502 Bad Gateway nginx");
  });

  it("explains a 2xx/4xx answer without the header, quoting the body", () => {
    expect(validatePrpcResponse(404, h({}), body("not here"))?.rawMessage).toBe(
      'prpc: no X-Prpc-Grpc-Code header, HTTP status 404, body: "not here"',
    );
  });

  it("truncates long bodies to 4096 characters plus ...", () => {
    const msg = validatePrpcResponse(500, h({}), body("a".repeat(5000)))?.rawMessage ?? "";
    expect(msg).toBe(`${"a".repeat(4096)}...`);
  });
});
