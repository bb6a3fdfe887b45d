import { describe, expect, it } from "vitest";
import { makeTempDir } from "../testing/temp-dir.js";
import { makeTokenFile } from "../token-file/make-token-file.js";
import { readTokenFile } from "../token-file/read-token-file.js";
import { writeTokenFile } from "../token-file/write-token-file.js";
import { checkMintedToken, MAX_MACHINE_TOKEN_CHARS } from "./check-minted-token.js";

const EXPIRY = { seconds: 1422939906n, nanos: 0 };

describe("checkMintedToken", () => {
  it("accepts a real token and both base64 alphabets", () => {
    const golden =
      "CjQKC2hvc3QuZG9tYWluEhh0b2tlbi1zZXJ2ZXJAZXhhbXBsZS5jb20Y8pHBpgUgkBw6AjA5EgZrZXlfaWQaCXNpZ25hdHVyZQ";
    for (const token of [golden, "a+/b==", "a-_b"]) expect(checkMintedToken(token, EXPIRY)).toBeUndefined();
  });

  it.each(["", "a b", "a\nb", "a=b", "a===", "é", "a\u001b"])("refuses the token %j", (token) => {
    expect(checkMintedToken(token, EXPIRY)).toMatch(/^the machine token is (empty|not base64 text)$/);
  });

  it("refuses an expiry outside 0001-01-01 .. 9999-12-31 or nanos outside a second", () => {
    expect(checkMintedToken("t", { seconds: 253402300799n, nanos: 999_999_999 })).toBeUndefined();
    expect(checkMintedToken("t", { seconds: -62135596800n, nanos: 0 })).toBeUndefined();
    for (const e of [
      { seconds: 253402300800n, nanos: 0 },
      { seconds: -62135596801n, nanos: 0 },
      { seconds: 0n, nanos: -1 },
      { seconds: 0n, nanos: 1_000_000_000 },
    ]) {
      expect(checkMintedToken("t", e)).toMatch(/is not a valid timestamp$/);
    }
  });

  it("the longest token accepted makes a token file the reader accepts, with the largest other fields", async () => {
    const tmp = await makeTempDir();
    try {
      const max = 2n ** 63n - 1n;
      const token = makeTokenFile({
        luciMachineToken: "A".repeat(MAX_MACHINE_TOKEN_CHARS),
        expiry: -(2n ** 63n),
        lastUpdate: max,
        nextUpdate: max,
      });
      const state = { inputsDigest: "f".repeat(40), version: "1.3" };
      expect(checkMintedToken(token.luciMachineToken, EXPIRY)).toBeUndefined();
      expect(checkMintedToken(`${token.luciMachineToken}A`, EXPIRY)).toMatch(/a token file may hold$/);
      await writeTokenFile(tmp.path("t.json"), token, state);
      expect((await readTokenFile(tmp.path("t.json"))).token?.luciMachineToken).toBe(token.luciMachineToken);
    } finally {
      await tmp.remove();
    }
  });
});
