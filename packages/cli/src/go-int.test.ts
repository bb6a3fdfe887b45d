import { describe, expect, it } from "vitest";
import { parseGoInt } from "./go-int.js";

// Every row was run through the Go binary's -ts-mon-task-number (and its metrics dump for values).
describe("parseGoInt (strconv.ParseInt(s, 0, 64) as Go's flag package reports it)", () => {
  it.each([
    ["0x10", 16n],
    ["0X10", 16n],
    ["-0x10", -16n],
    ["010", 8n],
    ["00", 0n],
    ["0o17", 15n],
    ["0O7", 7n],
    ["0b101", 5n],
    ["0B1", 1n],
    ["1_000", 1000n],
    ["0x_10", 16n],
    ["0_10", 8n],
    ["0xFF_ff", 65535n],
    ["+5", 5n],
    ["-0", 0n],
    ["9223372036854775807", 9223372036854775807n],
    ["-9223372036854775808", -9223372036854775808n],
    ["-0x8000000000000000", -9223372036854775808n],
  ])("reads %s as %s", (text, value) => {
    expect(parseGoInt(text)).toEqual({ value });
  });

  it.each([
    "",
    "x",
    "+",
    "-",
    "++5",
    " 5",
    "5 ",
    "1e3",
    "08",
    "0x",
    "0o",
    "0xg",
    "0b2",
    "0o8",
    "_1",
    "1_",
    "1__0",
    "0x_",
    "0b1_",
    "0_x10",
    "０",
    "\u212a", // KELVIN SIGN: not a letter digit, although it lower-cases to k
    "\x11",
  ])("refuses %j with a parse error", (text) => {
    expect(parseGoInt(text)).toEqual({ error: "parse error" });
  });

  it.each([
    "9223372036854775808",
    "-9223372036854775809",
    "0x8000000000000000",
    "18446744073709551616",
    "99999999999999999999x", // the overflow is met before the bad character, as in Go
  ])("refuses %s as out of range", (text) => {
    expect(parseGoInt(text)).toEqual({ error: "value out of range" });
  });
});
