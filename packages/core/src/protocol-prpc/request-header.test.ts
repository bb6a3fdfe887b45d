import { describe, expect, it } from "vitest";
import { PRPC_MAX_RESPONSE_BYTES, PRPC_USER_AGENT, prpcRequestHeader } from "./request-header.js";

describe("prpcRequestHeader", () => {
  it("sets Go's pRPC client headers", () => {
    const header = prpcRequestHeader(undefined, 60_000);
    const all: Record<string, string> = {};
    header.forEach((value, key) => {
      all[key] = value;
    });
    expect(all).toEqual({
      "content-type": "application/prpc; encoding=binary",
      accept: "application/prpc; encoding=binary",
      "accept-encoding": "gzip",
      "x-prpc-max-response-size": "33521664",
      "user-agent": "pRPC Client 1.5",
      "x-prpc-grpc-timeout": "60000000u",
    });
    expect(PRPC_MAX_RESPONSE_BYTES).toBe(33521664);
    expect(PRPC_USER_AGENT).toBe("pRPC Client 1.5");
  });

  it("sends no timeout header without a timeout", () => {
    expect(prpcRequestHeader(undefined, undefined).has("X-Prpc-Grpc-Timeout")).toBe(false);
  });

  it("keeps caller headers and a caller User-Agent, but not a caller Content-Type", () => {
    const header = prpcRequestHeader(
      { Authorization: "Bearer x", "User-Agent": "me", "Content-Type": "a/b" },
      1,
    );
    expect(header.get("Authorization")).toBe("Bearer x");
    expect(header.get("User-Agent")).toBe("me");
    expect(header.get("Content-Type")).toBe("application/prpc; encoding=binary");
  });
});
