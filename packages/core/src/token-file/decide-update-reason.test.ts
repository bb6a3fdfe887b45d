import { describe, expect, it } from "vitest";
import { REFERENCE_DIGEST } from "../testing/vectors.js";
import { decideUpdateReason } from "./decide-update-reason.js";
import { makeTokenFile } from "./make-token-file.js";

const NEXT = 1422938106;
const token = (nextUpdate = BigInt(NEXT), expiry = BigInt(NEXT + 1800)) =>
  makeTokenFile({ luciMachineToken: "t", expiry, lastUpdate: BigInt(NEXT - 1800), nextUpdate });
const state = { inputsDigest: REFERENCE_DIGEST, version: "1.3" };
const before = new Date((NEXT - 60) * 1000);
const base = { token: token(), state, inputsDigest: REFERENCE_DIGEST, now: before };

describe("decideUpdateReason", () => {
  it("is TOKEN_IS_GOOD for a fresh token with the same inputs", () => {
    expect(decideUpdateReason(base)).toBe("TOKEN_IS_GOOD");
  });

  it("is NEW_TOKEN without a token, whatever else holds", () => {
    expect(decideUpdateReason({ ...base, token: undefined })).toBe("NEW_TOKEN");
    expect(decideUpdateReason({ ...base, token: undefined, state: undefined, forceRefresh: true })).toBe(
      "NEW_TOKEN",
    );
  });

  it("is NEW_TOKEN when next_update is 0, before looking at time, state or force", () => {
    expect(decideUpdateReason({ ...base, token: token(0n) })).toBe("NEW_TOKEN");
    expect(
      decideUpdateReason({
        ...base,
        token: token(0n),
        state: undefined,
        inputsDigest: "x",
        forceRefresh: true,
      }),
    ).toBe("NEW_TOKEN");
  });

  it("is TOKEN_EXPIRES only when now is strictly after next_update", () => {
    expect(decideUpdateReason({ ...base, now: new Date(NEXT * 1000) })).toBe("TOKEN_IS_GOOD");
    expect(decideUpdateReason({ ...base, now: new Date(NEXT * 1000 + 1) })).toBe("TOKEN_EXPIRES");
    expect(decideUpdateReason({ ...base, now: new Date(NEXT * 1000 - 1) })).toBe("TOKEN_IS_GOOD");
  });

  it("puts TOKEN_EXPIRES before PARAMS_CHANGE and FORCE_REFRESH", () => {
    const late = new Date((NEXT + 1) * 1000);
    expect(decideUpdateReason({ ...base, now: late, state: undefined, forceRefresh: true })).toBe(
      "TOKEN_EXPIRES",
    );
    expect(decideUpdateReason({ ...base, now: late, inputsDigest: "other" })).toBe("TOKEN_EXPIRES");
  });

  it("is PARAMS_CHANGE for a missing state or a different digest, before FORCE_REFRESH", () => {
    expect(decideUpdateReason({ ...base, state: undefined })).toBe("PARAMS_CHANGE");
    expect(decideUpdateReason({ ...base, inputsDigest: "0".repeat(40) })).toBe("PARAMS_CHANGE");
    expect(decideUpdateReason({ ...base, state: { inputsDigest: "", version: "" } })).toBe("PARAMS_CHANGE");
    expect(decideUpdateReason({ ...base, state: undefined, forceRefresh: true })).toBe("PARAMS_CHANGE");
  });

  it("does not compare the state's version", () => {
    expect(decideUpdateReason({ ...base, state: { inputsDigest: REFERENCE_DIGEST, version: "1.0" } })).toBe(
      "TOKEN_IS_GOOD",
    );
  });

  it("is FORCE_REFRESH for a good token when forced", () => {
    expect(decideUpdateReason({ ...base, forceRefresh: true })).toBe("FORCE_REFRESH");
    expect(decideUpdateReason({ ...base, forceRefresh: false })).toBe("TOKEN_IS_GOOD");
  });

  it("ignores expiry entirely", () => {
    expect(decideUpdateReason({ ...base, token: token(BigInt(NEXT), 1n) })).toBe("TOKEN_IS_GOOD");
    expect(decideUpdateReason({ ...base, token: token(BigInt(NEXT), 0n) })).toBe("TOKEN_IS_GOOD");
  });

  it("handles next_update values beyond 2^53 ms without overflow", () => {
    expect(decideUpdateReason({ ...base, token: token(2n ** 62n) })).toBe("TOKEN_IS_GOOD");
    expect(decideUpdateReason({ ...base, token: token(-5n) })).toBe("TOKEN_EXPIRES");
    expect(decideUpdateReason({ ...base, token: token(-(2n ** 63n)) })).toBe("TOKEN_EXPIRES");
  });

  // Go's time.Unix keeps seconds from year 1 in an int64: the last 62135596800 values wrap.
  it("takes next_update within 62135596800 s of the int64 maximum as past, as Go's time.Unix does", () => {
    const lastGood = 2n ** 63n - 1n - 62135596800n;
    expect(decideUpdateReason({ ...base, token: token(lastGood) })).toBe("TOKEN_IS_GOOD");
    expect(decideUpdateReason({ ...base, token: token(lastGood + 1n) })).toBe("TOKEN_EXPIRES");
    expect(decideUpdateReason({ ...base, token: token(2n ** 63n - 1n) })).toBe("TOKEN_EXPIRES");
  });
});
