import { describe, expect, it } from "vitest";
import { escapeForLog, MAX_LOG_TEXT, oneLine, printableError } from "./one-line.js";

describe("escapeForLog", () => {
  it.each([
    ["a\nb\rc\td", "a\\nb\\rc\\td"],
    ["\u0000\u0007\u001b[2J\u001f", "\\x00\\x07\\x1b[2J\\x1f"],
    ["del\u007f c1\u0080\u009b", "del\\x7f c1\\x80\\x9b"],
    ["\u2028\u2029", "\\u2028\\u2029"],
    ["\u202aa\u202bb\u202cc\u202dd\u202ee", "\\u202aa\\u202bb\\u202cc\\u202dd\\u202ee"],
    ["\u2066\u2067\u2068\u2069\u200e\u200f\u061c", "\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c"],
    ["lone \ud800 and \udc00", "lone \\ud800 and \\udc00"],
  ])("escapes %j visibly", (text, escaped) => {
    expect(escapeForLog(text)).toBe(escaped);
  });

  it("keeps printable text, non-ASCII letters, emoji and backslashes as they are", () => {
    const text = 'ok: café ☕ 😀 C:\\path "q" <a>';
    expect(escapeForLog(text)).toBe(text);
  });

  it("changes nothing when applied twice", () => {
    const once = escapeForLog("x\n\u001b[1m\u202ey");
    expect(escapeForLog(once)).toBe(once);
  });

  it("caps the length with ... and never splits an escape", () => {
    expect(escapeForLog("a".repeat(MAX_LOG_TEXT + 1))).toBe(`${"a".repeat(MAX_LOG_TEXT)}...`);
    expect(escapeForLog("a".repeat(MAX_LOG_TEXT))).toBe("a".repeat(MAX_LOG_TEXT));
    expect(escapeForLog("ab\u001bcd", 4)).toBe("ab...");
    expect(escapeForLog("ab\u202ecd", 5)).toBe("ab...");
    expect(escapeForLog("ab\ncd", 4)).toBe("ab\\n...");
  });

  it("escapes only the kept part of a huge text", () => {
    expect(escapeForLog("\u001b".repeat(10_000_000), 100)).toBe(`${"\\x1b".repeat(25)}...`);
  });
});

describe("oneLine and printableError", () => {
  it("folds lines into one and escapes the rest", () => {
    expect(oneLine("first\n   second\r\n\u001bthird  ")).toBe("first second \\x1bthird");
  });

  it("keeps blanks that hold no line break, and takes linear time over long runs of blanks", () => {
    expect(oneLine("a  \t b\n\n  c")).toBe("a  \t b c".replace("\t", "\\t"));
    const started = performance.now();
    expect(oneLine(`x${" ".repeat(200_000)}y`, 10)).toBe("x         ...");
    // The earlier /\s*[\r\n]+\s*/ took 44 s over 256 KiB of blanks; linear, this is milliseconds.
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("reads the message of anything thrown", () => {
    expect(printableError(new Error("bad\nthing"))).toBe("bad\\nthing");
    expect(printableError("text\u0007")).toBe("text\\x07");
    expect(printableError(42)).toBe("42");
  });
});
