import { describe, expect, it } from "vitest";
import { requestFormat, responseFormat } from "./negotiate.js";

describe("pRPC content negotiation", () => {
  it("reads the request format from Content-Type; no Content-Type means binary", () => {
    expect(requestFormat(undefined)).toEqual({ format: "binary" });
    expect(requestFormat("application/prpc; encoding=binary")).toEqual({ format: "binary" });
    expect(requestFormat("application/grpc")).toEqual({ format: "binary" });
    expect(requestFormat("application/json")).toEqual({ format: "json" });
    expect(requestFormat("application/prpc; encoding=json")).toEqual({ format: "json" });
  });

  it("refuses unsupported request types with 415, including the text format", () => {
    for (const ct of ["image/png", "application/prpc; encoding=text", "application/prpc; charset=utf-8"]) {
      const r = requestFormat(ct);
      expect("error" in r && [r.error.code, r.error.protocol?.httpStatus]).toEqual([3, 415]);
    }
  });

  it("picks the response format from Accept by q, falling back to the request format", () => {
    expect(responseFormat(undefined, "json")).toEqual({ format: "json" });
    expect(responseFormat("", "binary")).toEqual({ format: "binary" });
    expect(responseFormat("application/json", "binary")).toEqual({ format: "json" });
    expect(responseFormat("application/json;q=0.5, application/prpc; encoding=binary", "json")).toEqual({
      format: "binary",
    });
    expect(responseFormat("image/png, application/json", "binary")).toEqual({ format: "json" });
    expect(responseFormat("application/json;q=0, application/prpc", "json")).toEqual({ format: "binary" });
  });

  it("answers 406 when nothing acceptable is supported and 400 for a bad q", () => {
    const none = responseFormat("image/png, text/html", "binary");
    expect("error" in none && none.error.protocol?.httpStatus).toBe(406);
    const badQ = responseFormat("application/json;q=2", "binary");
    expect("error" in badQ && badQ.error.protocol?.httpStatus).toBe(400);
  });
});
