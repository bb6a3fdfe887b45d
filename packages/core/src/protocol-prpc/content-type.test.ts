import { describe, expect, it } from "vitest";
import { PRPC_BINARY_CONTENT_TYPE, prpcFormatFromMediaType } from "./content-type.js";

describe("prpcFormatFromMediaType", () => {
  it.each([
    [PRPC_BINARY_CONTENT_TYPE, "binary"],
    ["application/prpc", "binary"],
    ["application/prpc; encoding=", "binary"],
    ["Application/PRPC; Encoding=binary", "binary"],
    ['application/prpc; encoding="binary"', "binary"],
    ["application/prpc;encoding=binary", "binary"],
    ["", "binary"],
    [null, "binary"],
    [undefined, "binary"],
    ["*/*", "binary"],
    ["application/*", "binary"],
    ["application/grpc", "binary"],
    ["application/json", "json"],
    ["application/prpc; encoding=json", "json"],
    ["application/prpc; encoding=text", "text"],
    ["application/prpc;", "binary"],
  ])("reads %j as %s", (value, format) => {
    expect(prpcFormatFromMediaType(value)).toEqual({ format });
  });

  it.each([
    "text/plain; charset=utf-8",
    "text/html",
    "application/prpc; encoding=xml",
    "application/prpc; charset=utf-8",
    "application/prpc; encoding=binary; x=y",
    "application/prpc; encoding",
  ])("rejects %j", (value) => {
    expect(prpcFormatFromMediaType(value)).toEqual({ error: expect.any(String) });
  });

  // The texts the reference Go binary put in failure_error for these response Content-Types.
  it.each([
    ["text/plain", 'unknown content type: "text/plain"'],
    ["Text/HTML", 'unknown content type: "text/html"'],
    [
      "application/prpc; encoding=xml",
      'invalid encoding parameter: "xml". Valid values: "binary", "json", "text"',
    ],
    [
      "APPLICATION/PRPC; ENCODING=BINARY",
      'invalid encoding parameter: "BINARY". Valid values: "binary", "json", "text"',
    ],
    ["application/prpc; foo=bar", 'unexpected parameter "foo"'],
    ["garbage;;", "mime: invalid media parameter"],
    ["garbage", 'unknown content type: "garbage"'],
    ["; encoding=binary", "mime: no media type"],
    ["a/b;;", "mime: invalid media parameter"],
    ["a/b; x=1; X=2", "mime: duplicate parameter name"],
  ])("words the error for %j as Go", (value, error) => {
    expect(prpcFormatFromMediaType(value)).toEqual({ error });
  });
});
