import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readFlatJsonObject } from "./flat-json-object.js";

const members = (text: string) => {
  const read = readFlatJsonObject(text);
  if ("error" in read) throw new Error(read.error);
  return read.members.map(({ key, value }) => [key, value]);
};

describe("readFlatJsonObject", () => {
  it("keeps every member in order, repeated keys included, numbers as written", () => {
    expect(members('{"a": 9007199254740993, "a": "x",\n "b": null, "c": true, "d": -1.5e3}')).toEqual([
      ["a", { kind: "number", text: "9007199254740993" }],
      ["a", { kind: "string", value: "x" }],
      ["b", { kind: "null" }],
      ["c", { kind: "boolean", value: true }],
      ["d", { kind: "number", text: "-1.5e3" }],
    ]);
    expect(members(" {} ")).toEqual([]);
  });

  it("gives the line of each key", () => {
    const read = readFlatJsonObject('{\n  "a": 1,\r\n\n  "b": 2}');
    expect("members" in read && read.members.map((m) => m.line)).toEqual([2, 4]);
  });

  it("reads Go's bare 1e before a delimiter, which JSON.parse refuses", () => {
    expect(members('{"a": 1e, "b": 4E}')).toEqual([
      ["a", { kind: "number", text: "1e" }],
      ["b", { kind: "number", text: "4E" }],
    ]);
    expect(() => JSON.parse('{"a": 1e}')).toThrow();
  });

  it("stops at an object or array value (no token file field takes one)", () => {
    expect(members('{"a": 1, "b": [1, 2], "c": garbage')).toEqual([
      ["a", { kind: "number", text: "1" }],
      ["b", { kind: "array" }],
    ]);
  });

  it.each([
    ["not JSON", "root:x:0:0", "invalid JSON at line 1"],
    ["another JSON value", "[1]", "expecting a JSON object"],
    ["a string", '"x"', "expecting a JSON object"],
    ["empty", "", "unexpected end of JSON input"],
    ["truncated", '{"a": "x', "unexpected end of JSON input"],
    ["a trailing comma", '{"a": 1,}', "invalid JSON at line 1"],
    ["a missing colon", '{"a" 1}', "invalid JSON at line 1"],
    ["a literal run on", '{"a": nullx}', "invalid JSON at line 1"],
    ["a number run on", '{"a": 01}', "invalid JSON at line 1"],
    ["a control character in a string", '{"a": "x\ty"}', "invalid JSON at line 1"],
    ["a bad escape", '{"a": "\\x41"}', "invalid JSON at line 1"],
    ["a lone surrogate", '{"a": "\\ud800"}', "invalid JSON at line 1"],
    ["a lone surrogate in a key", '{"\\udc00": 1}', "invalid JSON at line 1"],
    ["text after the object", '{"a": 1}\n{}', "invalid JSON at line 2"],
    ["a byte-order mark", '\uFEFF{"a": 1}', "invalid JSON at line 1"],
  ])("refuses %s", (_name, text, error) => {
    expect(readFlatJsonObject(text)).toEqual({ error });
  });

  it("agrees with JSON.parse on flat objects JSON.parse reads (values and last-key-wins aside)", () => {
    const scalar = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.double());
    fc.assert(
      fc.property(fc.dictionary(fc.string(), scalar), (object) => {
        const text = JSON.stringify(object, null, 1);
        const read = readFlatJsonObject(text);
        expect("members" in read).toBe(true);
        if (!("members" in read)) return;
        const back = Object.fromEntries(
          read.members.map(({ key, value }) => [
            key,
            value.kind === "number" ? Number(value.text) : "value" in value ? value.value : null,
          ]),
        );
        expect(back).toEqual(JSON.parse(text));
      }),
    );
  });

  it("reads a megabyte of keys in linear time", () => {
    const text = `{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":\n${i}`).join(",")}}`;
    const started = performance.now();
    const read = readFlatJsonObject(text);
    expect("members" in read && read.members.at(-1)).toEqual({
      key: "k99999",
      line: 100_000,
      value: { kind: "number", text: "99999" },
    });
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
