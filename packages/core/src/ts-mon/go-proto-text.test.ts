import { create } from "@bufbuild/protobuf";
import { NullValue, StructSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { AnnotationsSchema, MetricsDataSchema } from "../gen/ts_mon/proto/metrics_pb.js";
import { goFloatText, goProtoText, goQuotedBytes } from "./go-proto-text.js";

// The golden test against the Go binary's own output is packages/cli/src/metrics/ts-mon-payload.test.ts.
describe("goProtoText (Go's proto.MarshalTextString)", () => {
  it("writes proto2 fields that are set, also to their default value, and skips unset ones", () => {
    expect(goProtoText(AnnotationsSchema, create(AnnotationsSchema, {}))).toBe("");
    expect(goProtoText(AnnotationsSchema, create(AnnotationsSchema, { unit: "", timestamp: false }))).toBe(
      'unit: ""\ntimestamp: false\n',
    );
  });

  it("writes a oneof where its first field is declared, nested messages in < >, repeated fields each", () => {
    const data = create(MetricsDataSchema, {
      field: [{ name: "a", value: { case: "int64Value", value: -7n } }, { name: "b" }],
      value: { case: "distributionValue", value: { count: 0n, bucketCount: [1n, 2n] } },
      startTimestamp: { seconds: 5n },
    });
    expect(goProtoText(MetricsDataSchema, data)).toBe(
      [
        "distribution_value: <",
        "  count: 0",
        "  bucket_count: 1",
        "  bucket_count: 2",
        ">",
        "field: <",
        '  name: "a"',
        "  int64_value: -7",
        ">",
        "field: <",
        '  name: "b"',
        ">",
        "start_timestamp: <",
        "  seconds: 5",
        ">",
        "",
      ].join("\n"),
    );
  });

  it("writes map entries sorted by key, an empty message as `<` `>`, enums by name", () => {
    const struct = create(StructSchema, {
      fields: {
        b: { kind: { case: "numberValue", value: 1e6 } },
        a: { kind: { case: "nullValue", value: NullValue.NULL_VALUE } },
        c: { kind: { case: "structValue", value: {} } },
      },
    });
    expect(goProtoText(StructSchema, struct)).toBe(
      [
        "fields: <",
        '  key: "a"',
        "  value: <",
        "    null_value: NULL_VALUE",
        "  >",
        ">",
        "fields: <",
        '  key: "b"',
        "  value: <",
        "    number_value: 1e+06",
        "  >",
        ">",
        "fields: <",
        '  key: "c"',
        "  value: <",
        "    struct_value: <",
        "    >",
        "  >",
        ">",
        "",
      ].join("\n"),
    );
  });

  it("escapes strings byte by byte as Go: named escapes, octal for the rest", () => {
    expect(goQuotedBytes(new TextEncoder().encode('a"\\\n\r\t\x00\x7fé~ '))).toBe(
      '"a\\"\\\\\\n\\r\\t\\000\\177\\303\\251~ "',
    );
  });

  it.each([
    [0, "0"],
    [-0, "-0"],
    [1, "1"],
    [1.5, "1.5"],
    [0.1, "0.1"],
    [1 / 3, "0.3333333333333333"],
    [100000, "100000"],
    [1e6, "1e+06"],
    [123456789, "1.23456789e+08"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [-2.5e-7, "-2.5e-07"],
    [1e100, "1e+100"],
    [Number.POSITIVE_INFINITY, "inf"],
    [Number.NEGATIVE_INFINITY, "-inf"],
    [Number.NaN, "nan"],
  ])("writes the double %d as Go's %%v: %s", (value, text) => {
    expect(goFloatText(value, 64)).toBe(text);
  });

  it("writes a float with the fewest digits that read back as the same float32", () => {
    expect(goFloatText(Math.fround(0.1), 32)).toBe("0.1");
    expect(goFloatText(Math.fround(16777217), 32)).toBe("1.6777216e+07");
  });
});
