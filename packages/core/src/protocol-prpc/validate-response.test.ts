import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { isUnusableResponse } from "../mint/unusable-response.js";
import { grpcCodeFromHeader, validatePrpcResponse } from "./validate-response.js";

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

  // The texts the reference Go binary wrote to failure_error (after `rpc error: code = Internal desc = `).
  it.each([
    [
      "application/json",
      'prpc: output format ("application/json") doesn\'t match expected format ("application/prpc; encoding=binary")',
    ],
    [
      "application/prpc; encoding=text",
      'prpc: output format ("application/prpc; encoding=text") doesn\'t match expected format ("application/prpc; encoding=binary")',
    ],
    ["text/html", 'prpc: bad response content type "text/html": unknown content type: "text/html"'],
    [
      "application/prpc; encoding=binary; charset=utf-8",
      'prpc: bad response content type "application/prpc; encoding=binary; charset=utf-8": unexpected parameter "charset"',
    ],
  ])(
    "rejects code 0 with Content-Type %j as INTERNAL, unusable (not retried), worded as Go",
    (type, message) => {
      const err = validatePrpcResponse(200, h({ "X-Prpc-Grpc-Code": "0", "Content-Type": type }), body("{}"));
      expect(err?.code).toBe(Code.Internal);
      expect(isUnusableResponse(err)).toBe(true);
      expect(err?.rawMessage).toBe(message);
    },
  );

  it("gives the header's code with the body, minus one trailing newline, ignoring the HTTP status", () => {
    const err = validatePrpcResponse(200, h({ "X-Prpc-Grpc-Code": "7" }), body("denied\n\n"));
    expect(err).toBeInstanceOf(ConnectError);
    expect(err?.code).toBe(Code.PermissionDenied);
    expect(err?.rawMessage).toBe("denied\\n");
  });

  it.each(["abc", "1.5", "0x7", "9223372036854775808"])(
    "gives INTERNAL (retried) for a code header %j, as Go",
    (value) => {
      const err = validatePrpcResponse(200, h({ "X-Prpc-Grpc-Code": value }), body(""));
      expect(err?.code).toBe(Code.Internal);
      expect(isUnusableResponse(err)).toBe(false);
      expect(err?.rawMessage).toBe(`prpc: invalid X-Prpc-Grpc-Code header value ${JSON.stringify(value)}`);
    },
  );

  it("treats an empty code header as a missing one, as Go's Header.Get", () => {
    expect(validatePrpcResponse(403, h({ "X-Prpc-Grpc-Code": "" }), body("no"))?.code).toBe(
      Code.PermissionDenied,
    );
  });

  // Observed with the reference binary: GRPC_ERROR_17, GRPC_ERROR_99, GRPC_ERROR_4294967295 for -1,
  // GRPC_ERROR_7 for "+7" and for 2^32 + 7; none of them retried.
  it.each([
    ["17", 17],
    ["99", 99],
    ["-1", 4294967295],
    ["+7", 7],
    ["4294967303", 7],
    ["4294967296", 0],
    ["-9223372036854775808", 0],
  ])("reads the code header %j as Go's client: %d", (value, code) => {
    expect(grpcCodeFromHeader(value)).toBe(code);
  });

  it("keeps codes above 16 as they are", () => {
    const err = validatePrpcResponse(500, h({ "X-Prpc-Grpc-Code": "17" }), body("boom\n"));
    expect(err?.code).toBe(17);
    expect(err?.rawMessage).toBe("boom");
  });

  it("escapes control characters, escape sequences and bidi overrides of error bodies", () => {
    const forged =
      "line one\n[I2026-01-01T00:00:00.000000Z 1 0 tokend] The token was updated\n\u001b[2J\u202eevil\n";
    const err = validatePrpcResponse(500, h({ "X-Prpc-Grpc-Code": "7" }), body(forged));
    expect(err?.rawMessage).toBe(
      "line one\\n[I2026-01-01T00:00:00.000000Z 1 0 tokend] The token was updated\\n\\x1b[2J\\u202eevil",
    );
    const page = validatePrpcResponse(404, h({}), body("<p>\u001b]0;title\u0007</p>"))?.rawMessage;
    expect(page).toBe(
      'prpc: no X-Prpc-Grpc-Code header, HTTP status 404, body: "<p>\\u001b]0;title\\u0007</p>"',
    );
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

  it("reduces any page in time linear in its size (the regular expressions were quadratic)", () => {
    const text = (page: string) => validatePrpcResponse(502, h({}), body(page))?.rawMessage;
    // The same text as the regular expressions gave, on small pages.
    const byRegExp = (html: string) =>
      html
        .replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ")
        .replace(/<[^>]*>/g, " ")
        .replace(/&nbsp;/g, " ")
        .replace(/\s+/g, " ")
        .trim();
    for (const page of [
      "a < b and <b>c</b> <SCRIPT>x<y</Script> <style>",
      "<p>one<script>never closed <b>two</b>",
      "x > y &nbsp; <br/>z <a href='>'>q</a> 1 < 2",
      "<style>a</style><STYLE>b</style>c<script a=1>d</script >e</script>f",
    ]) {
      expect(text(page), page).toBe(byRegExp(page));
    }
    for (const page of ["<".repeat(16384), "<script".repeat(2340), `<style${"<".repeat(16378)}`]) {
      const started = performance.now();
      text(page);
      expect(performance.now() - started, page.slice(0, 10)).toBeLessThan(50); // was 260 ms
    }
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
