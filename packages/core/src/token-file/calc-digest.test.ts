import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { REFERENCE_DIGEST } from "../testing/vectors.js";
import { calcDigest, FORCE_BUMP, tokendDigestInputs } from "./calc-digest.js";

const enc = new TextEncoder();
const reference = () =>
  tokendDigestInputs({
    backend: "luci-token-server.appspot.com",
    certPem: enc.encode("CERT\n"),
    keyPem: enc.encode("PKEY\n"),
  });

describe("calcDigest", () => {
  it("gives the reference vector for Go tokend's inputs (§4.4)", () => {
    expect(calcDigest(reference())).toBe(REFERENCE_DIGEST);
  });

  it("hashes `key\\n<len>\\n<value>` for each key in byte order", () => {
    const stream =
      "backend\n29\nluci-token-server.appspot.com" +
      "cert\n5\nCERT\n" +
      "forceBump\n1\n\x01" +
      "pkey\n5\nPKEY\n";
    expect(createHash("sha1").update(stream, "latin1").digest("hex")).toBe(REFERENCE_DIGEST);
    expect(FORCE_BUMP).toEqual(new Uint8Array([1]));
  });

  it("does not depend on the insertion order of the keys", () => {
    const enc2 = new TextEncoder();
    const reversed = {
      pkey: enc2.encode("PKEY\n"),
      forceBump: FORCE_BUMP,
      cert: enc2.encode("CERT\n"),
      backend: "luci-token-server.appspot.com",
    };
    expect(calcDigest(reversed)).toBe(REFERENCE_DIGEST);
  });

  it("sorts keys by bytes, not by locale (upper case before lower case)", () => {
    const bytesOrder = createHash("sha1").update("B\n1\nxa\n1\ny").digest("hex");
    expect(calcDigest({ a: "y", B: "x" })).toBe(bytesOrder);
    // UTF-8 byte order differs from UTF-16 order for astral vs. high BMP characters.
    const astral = "\u{1F600}"; // F0 9F 98 80 in UTF-8, D83D in UTF-16
    const bmp = "\uFF21"; // EF BC A1 in UTF-8, FF21 in UTF-16
    const expected = createHash("sha1").update(`${bmp}\n1\n1${astral}\n1\n2`).digest("hex");
    expect(calcDigest({ [astral]: "2", [bmp]: "1" })).toBe(expected);
  });

  it("uses the UTF-8 byte length of string values", () => {
    expect(calcDigest({ k: "é" })).toBe(createHash("sha1").update("k\n2\né").digest("hex"));
  });

  it("gives the same digest for a string and its UTF-8 bytes", () => {
    expect(calcDigest({ backend: "luci-token-server.appspot.com" })).toBe(
      calcDigest({ backend: enc.encode("luci-token-server.appspot.com") }),
    );
  });

  it("changes when any byte of any input changes", () => {
    const base = reference();
    const variants = [
      { ...base, backend: "luci-token-server.appspot.com:443" },
      { ...base, cert: enc.encode("CERT\n\n") },
      { ...base, cert: enc.encode("CERU\n") },
      { ...base, pkey: enc.encode("PKEY") },
      { ...base, forceBump: new Uint8Array([0]) },
    ];
    const digests = new Set(variants.map(calcDigest));
    expect(digests.size).toBe(variants.length);
    expect(digests.has(REFERENCE_DIGEST)).toBe(false);
  });

  it("is lowercase hex of 40 characters", () => {
    expect(calcDigest({})).toBe(createHash("sha1").digest("hex"));
    expect(calcDigest(reference())).toMatch(/^[0-9a-f]{40}$/);
  });
});
