import { describe, expect, it } from "vitest";
import { acceptsGzip, requestFormat, responseFormat } from "./negotiate.js";

describe("pRPC content negotiation (LUCI grpc/prpc encoding.go, accept.go)", () => {
  it("reads the request format from Content-Type; no Content-Type means binary", () => {
    expect(requestFormat(undefined)).toEqual({ format: "binary" });
    expect(requestFormat("application/prpc; encoding=binary")).toEqual({ format: "binary" });
    expect(requestFormat("application/grpc")).toEqual({ format: "binary" });
    expect(requestFormat("application/json")).toEqual({ format: "json" });
    expect(requestFormat("application/prpc; encoding=json")).toEqual({ format: "json" });
    expect(requestFormat("application/prpc; encoding=text")).toEqual({ format: "text" });
  });

  it("refuses unsupported request types with 415", () => {
    for (const ct of ["image/png", "application/prpc; encoding=yaml", "application/prpc; charset=utf-8"]) {
      const r = requestFormat(ct);
      expect("error" in r && [r.error.code, r.error.protocol?.httpStatus]).toEqual([3, 415]);
    }
  });

  it("answers binary without Accept, whatever the request format", () => {
    expect(responseFormat(undefined)).toEqual({ format: "binary" });
    expect(responseFormat("")).toEqual({ format: "binary" });
  });

  it("picks the highest q; among equal q the last listed, as Go's sort leaves it", () => {
    expect(responseFormat("application/json")).toEqual({ format: "json" });
    expect(responseFormat("application/prpc; encoding=text")).toEqual({ format: "text" });
    expect(responseFormat("application/json;q=0.5, application/prpc; encoding=binary")).toEqual({
      format: "binary",
    });
    expect(responseFormat("image/png, application/json")).toEqual({ format: "json" });
    expect(responseFormat("application/json, application/prpc; encoding=text")).toEqual({ format: "text" });
    expect(responseFormat("application/prpc; encoding=text, application/json")).toEqual({ format: "json" });
    // Go neither drops q=0 nor range-checks q; parameters after q are dropped.
    expect(responseFormat("application/json;q=0")).toEqual({ format: "json" });
    expect(responseFormat("application/json;q=2, application/prpc")).toEqual({ format: "json" });
    expect(responseFormat("application/prpc; q=0.9; encoding=text")).toEqual({ format: "binary" });
  });

  it("answers 406 when no media type names a format, 400 when q is not a number", () => {
    const none = responseFormat("image/png, text/html");
    expect("error" in none && [none.error.protocol?.httpStatus, none.error.message]).toEqual([
      406,
      expect.stringMatching(/^bad Accept header: specified media types are not not supported/),
    ]);
    const badQ = responseFormat("application/json;q=high");
    expect("error" in badQ && [badQ.error.protocol?.httpStatus, badQ.error.message]).toEqual([
      400,
      "bad Accept header: q parameter: expected a floating-point number",
    ]);
  });

  it("takes gzip from Accept-Encoding by name, any q", () => {
    expect(acceptsGzip(undefined)).toEqual({ value: false });
    expect(acceptsGzip("br, GZIP;q=0")).toEqual({ value: true });
    expect(acceptsGzip("deflate")).toEqual({ value: false });
    const bad = acceptsGzip("gzip;q=x");
    expect("error" in bad && bad.error.protocol?.httpStatus).toBe(400);
  });
});
