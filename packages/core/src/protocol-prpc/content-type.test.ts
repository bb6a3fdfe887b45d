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
});
