import { create, fromJson, type JsonValue, toJsonString } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TokenFileSchema } from "./gen/tokenserver/token_file_pb.js";
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

/** A string BigInt() reads that is not plain decimal: where protobuf-es is laxer than Go. */
function nonDecimalBigIntText(value: unknown): boolean {
  if (typeof value !== "string" || /^-?\d+$/.test(value)) return false;
  try {
    BigInt(value);
    return true;
  } catch {
    return false;
  }
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
        expect(tokenFileFromJson(JSON.parse(tokenFileToJson(token))).token).toEqual(token);
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
        // protobuf-es takes any BigInt() syntax for int64 (" 12", "0xA"); Go, and we, take decimal only.
        fc.pre(!Object.values(json).some(nonDecimalBigIntText));
        const ours = tokenFileFromJson(json);
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
    expect(tokenFileFromJson([]).error).toBe("expecting a JSON object, got an array");
    expect(tokenFileFromJson({ extra: 1 }).error).toBe("unknown field");
    expect(tokenFileFromJson({ extra: 1 }, undefined, () => 3).error).toBe("unknown field at line 3");
    expect(tokenFileFromJson({ expiry: true }).error).toBe(
      'field "expiry": expecting an integer, got a boolean',
    );
    expect(tokenFileFromJson({ expiry: "9223372036854775808" }).error).toBe(
      'field "expiry": out of the int64 range',
    );
    expect(tokenFileFromJson({ tokend_state: "a" }).error).toBe('field "tokend_state": invalid base64');
    // Decimal only, like Go's protojson (protobuf-es would take hex).
    expect(tokenFileFromJson({ expiry: "0xA" }).error).toBe(
      'field "expiry": expecting an integer, got a string',
    );
    expect(protobufEs({ expiry: "0xA" })?.expiry).toBe(10n);
    expect(tokenFileFromJson({}, "expiry").error).toBe('field "expiry" is set more than once');
    expect(tokenFileFromJson({}, "secret", () => 2).error).toBe(
      "an unknown field is set more than once at line 2",
    );
  });
});
