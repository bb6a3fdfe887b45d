import { create, fromJson, type JsonValue, toJsonString } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TokenFileSchema } from "../gen/tokenserver/token_file_pb.js";
import { BASE64_SPELLINGS, INT64_SPELLINGS } from "../testing/token-file-spellings.js";
import { goJsonBytes } from "./go-json-bytes.js";
import { makeTokenFile } from "./make-token-file.js";
import { TOKEN_FILE_FIELDS, tokenFileFromJson, tokenFileToJson } from "./token-file-json.js";

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

const tokenFileArb = fc.record({
  accessToken: fc.string({ unit: "grapheme" }),
  tokenType: fc.string({ unit: "grapheme" }),
  luciMachineToken: fc.oneof(fc.string({ unit: "grapheme" }), fc.base64String()),
  expiry: fc.bigInt(INT64),
  lastUpdate: fc.bigInt(INT64),
  nextUpdate: fc.oneof(fc.constant(0n), fc.bigInt(INT64)),
  serviceAccountEmail: fc.constant(""),
  serviceAccountUniqueId: fc.string(),
  tokendState: fc.uint8Array({ maxLength: 120 }),
});

/**
 * A value protobuf-es and Go's protojson read differently, so protobuf-es is no oracle for it
 * (Go's reading of these is pinned by testing/token-file-spellings.ts instead):
 * - a JSON number between 2^53 and 2^63: protobuf-es reads the nearest double (68057674163079130
 *   becomes …128), Go and we the digits as written (past 2^63 both refuse it, so it stays);
 * - int64: protobuf-es takes any BigInt() syntax (" 12", "0xA", "007"), Go a string that starts
 *   with a JSON number, which may have a fraction or an exponent ("4e9") but no leading zero;
 * - bytes: protobuf-es skips spaces and inner padding, and mixes the two alphabets; Go does not.
 */
function readDifferently(value: unknown): boolean {
  if (typeof value === "number") {
    return Number.isInteger(value) && !Number.isSafeInteger(value) && Math.abs(value) < 2 ** 63;
  }
  if (typeof value !== "string") return false;
  const canonicalDecimal = /^-?(0|[1-9]\d*)$/.test(value);
  let bigIntReads = true;
  try {
    BigInt(value);
  } catch {
    bigIntReads = false;
  }
  const startsWithNumber = /^-?\d/.test(value);
  const oneAlphabet = /^[A-Za-z0-9+/]*={0,2}$|^[A-Za-z0-9_-]*={0,2}$/.test(value);
  const onlyBase64Characters = /^[A-Za-z0-9+/_=\s-]*$/.test(value);
  return (!canonicalDecimal && (bigIntReads || startsWithNumber)) || (onlyBase64Characters && !oneAlphabet);
}

/** protobuf-es's verdict: the message, or undefined when it rejects the JSON. */
function protobufEs(json: JsonValue) {
  try {
    return fromJson(TokenFileSchema, json);
  } catch {
    return undefined;
  }
}

describe("the hand-written TokenFile JSON codec", () => {
  it("has exactly the generated schema's fields, in number order, with their JSON names and types", () => {
    const fromSchema = TokenFileSchema.fields.map((f) => [f.jsonName, f.localName, f.fieldKind, f.scalar]);
    const kinds = { string: 9, int64: 3, bytes: 12 }; // ScalarType numbers
    expect(TOKEN_FILE_FIELDS.map((f) => [f.key, f.prop, "scalar", kinds[f.kind]])).toEqual(fromSchema);
    expect(TokenFileSchema.fields.map((f) => f.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 50]);
    expect(makeTokenFile()).toEqual(create(TokenFileSchema));
  });

  it("writes byte-for-byte what protobuf-es writes", () => {
    fc.assert(
      fc.property(tokenFileArb, (fields) => {
        const token = makeTokenFile(fields);
        expect(tokenFileToJson(token)).toBe(toJsonString(TokenFileSchema, token, { prettySpaces: 2 }));
      }),
      { numRuns: RUNS },
    );
  });

  it("reads back what it writes", () => {
    fc.assert(
      fc.property(tokenFileArb, (fields) => {
        const token = makeTokenFile(fields);
        expect(tokenFileFromJson(tokenFileToJson(token)).token).toEqual(token);
      }),
      { numRuns: RUNS },
    );
  });

  it("accepts and rejects the same JSON objects as protobuf-es, with the same values", () => {
    const keys = [...TOKEN_FILE_FIELDS.map((f) => f.key), "extra", "luciMachineToken", "Expiry"];
    const value = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.bigInt(INT64).map(String),
      fc.bigInt({ min: INT64.max, max: INT64.max * 4n }).map(String),
      fc.string({ unit: "grapheme", maxLength: 12 }),
      fc.base64String({ maxLength: 40 }),
      fc
        .base64String({ maxLength: 40 })
        .map((s) => s.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")),
      fc.array(fc.integer(), { maxLength: 2 }),
      fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
    );
    const verdicts = { accepted: 0, rejected: 0 };
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 5 }), (json) => {
        fc.pre(!Object.values(json).some(readDifferently));
        const ours = tokenFileFromJson(JSON.stringify(json));
        const theirs = protobufEs(json as JsonValue);
        expect(ours.token === undefined).toBe(theirs === undefined);
        if (ours.token && theirs) expect(ours.token).toEqual(theirs);
        verdicts[ours.token ? "accepted" : "rejected"]++;
      }),
      { numRuns: RUNS * 3 },
    );
    // Both branches must really be exercised for the comparison to mean anything.
    expect(verdicts.accepted).toBeGreaterThan(RUNS / 10);
    expect(verdicts.rejected).toBeGreaterThan(RUNS / 10);
  });

  it("says what is wrong in one line", () => {
    const error = (text: string) => tokenFileFromJson(text).error;
    expect(error("[]")).toBe("expecting a JSON object");
    expect(error('{"extra": 1}')).toBe("unknown field at line 1");
    expect(error('{\n\n  "extra": 1}')).toBe("unknown field at line 3");
    expect(error('{"expiry": true}')).toBe('field "expiry": expecting an integer, got a boolean');
    expect(error('{"expiry": "9223372036854775808"}')).toBe('field "expiry": out of the int64 range');
    expect(error('{"expiry": 1.5}')).toBe('field "expiry": expecting an integer, got a number');
    expect(error('{"tokend_state": "a"}')).toBe('field "tokend_state": invalid base64');
    // Decimal JSON numbers only, like Go's protojson (protobuf-es would take hex).
    expect(error('{"expiry": "0xA"}')).toBe('field "expiry": expecting an integer, got a string');
    expect(protobufEs({ expiry: "0xA" })?.expiry).toBe(10n);
    expect(error('{"expiry": "1",\n"expiry": "2"}')).toBe('field "expiry" is set more than once at line 2');
    // Go stops at the first unknown key, before seeing it again.
    expect(error('{"secret": 1,\n"secret": 2}')).toBe("unknown field at line 1");
    expect(error('{"expiry": "1" x}')).toBe("invalid JSON at line 1");
    expect(error('{"expiry": "1"')).toBe("unexpected end of JSON input");
  });
});

describe("int64 and bytes spellings, as the Go binary read them (testing/token-file-spellings.ts)", () => {
  it.each(INT64_SPELLINGS)("expiry: %s → %s", (json, go) => {
    const parsed = tokenFileFromJson(`{"expiry": ${json}}`);
    if (go === "refused") expect(parsed.error).toMatch(/^field "expiry": /);
    else expect(parsed.token?.expiry).toBe(go);
  });

  it.each(INT64_SPELLINGS)("next_update and last_update read the same: %s", (json, go) => {
    const parsed = tokenFileFromJson(`{"last_update": ${json},\n "next_update": ${json}}`);
    const values = parsed.token && [parsed.token.lastUpdate, parsed.token.nextUpdate];
    expect(values ?? "refused").toEqual(go === "refused" ? "refused" : [go, go]);
  });

  // Ends in "==" and holds "+" and "/", so that every row changes something.
  const bytes = new TextEncoder().encode('{"InputsDigest":"x","Version":"1.3","X":">???~2"}');
  const std = Buffer.from(bytes).toString("base64");
  it("has a base64 text with both special characters and two padding characters", () => {
    expect(std).toMatch(/^(?=.*\+)(?=.*\/).*[^=]==$/);
  });
  it.each(BASE64_SPELLINGS)("tokend_state %s → %s", (_name, spell, go) => {
    const parsed = tokenFileFromJson(`{"tokend_state": ${spell(std)}}`);
    if (go === "refused") expect(parsed.error).toBe('field "tokend_state": invalid base64');
    else expect(parsed.token?.tokendState).toEqual(bytes);
  });

  it("decodes base64 of every length and alphabet as Node does, padded or not", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.boolean(), fc.boolean(), (data, url, pad) => {
        let text = Buffer.from(data).toString(url ? "base64url" : "base64");
        text = pad ? text.padEnd(Math.ceil(text.length / 4) * 4, "=") : text.replace(/=+$/, "");
        expect(goJsonBytes(text)).toEqual(new Uint8Array(data));
      }),
      { numRuns: RUNS },
    );
  });
});
