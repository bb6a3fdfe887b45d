import { describe, expect, it } from "vitest";
import { escapeUnprintable, goQuote } from "./go-quote.js";

describe("goQuote (Go's %q)", () => {
  it.each([
    ["plain", '"plain"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ["tab\there\n", '"tab\\there\\n"'],
    ["\x07\b\f\r\v", '"\\a\\b\\f\\r\\v"'],
    ["\x01\x1b[31m\x7f", '"\\x01\\x1b[31m\\x7f"'],
    ["é中😀 ", '"é中😀 "'],
    ["\u00a0\u00ad\u2028", '"\\u00a0\\u00ad\\u2028"'],
    ["\u{e0001}", '"\\U000e0001"'],
    ["\ud800", '"\\ufffd"'],
  ])("quotes %j as %s", (text, quoted) => {
    expect(goQuote(text)).toBe(quoted);
  });
});

describe("escapeUnprintable", () => {
  it("leaves printable text, quotes and backslashes alone and escapes the rest like %q", () => {
    expect(escapeUnprintable(`it's "a\\b" é`)).toBe(`it's "a\\b" é`);
    expect(escapeUnprintable("a\nb\x01")).toBe("a\\nb\\x01");
  });
});
