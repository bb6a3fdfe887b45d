import { describe, expect, it } from "vitest";
import { parseGoFlags } from "./go-flags.js";

function values(args: string[]) {
  const r = parseGoFlags(args);
  if (r.kind !== "values") throw new Error(`expected values, got ${JSON.stringify(r)}`);
  return r;
}

describe("parseGoFlags (Go's flag package)", () => {
  it("accepts -flag value, -flag=value, --flag value and --flag=value", () => {
    const r = values(["-backend", "a:1", "-token-file=t.json", "--pkey-pem", "k.pem", "--cert-pem=c.pem"]);
    expect(Object.fromEntries(r.values)).toEqual({
      backend: "a:1",
      "token-file": "t.json",
      "pkey-pem": "k.pem",
      "cert-pem": "c.pem",
    });
  });

  it("reads booleans only as bare -bool or -bool=value", () => {
    expect(values(["-force-refresh"]).values.get("force-refresh")).toBe(true);
    expect(values(["-force-refresh=false"]).values.get("force-refresh")).toBe(false);
    expect(values(["--force-refresh=T"]).values.get("force-refresh")).toBe(true);
    // Go: `-force-refresh true` makes "true" a positional argument and stops parsing there.
    const r = values(["-force-refresh", "true", "-backend", "x"]);
    expect(r.values.get("force-refresh")).toBe(true);
    expect(r.values.has("backend")).toBe(false);
    expect(r.positional).toEqual(["true", "-backend", "x"]);
  });

  it("rejects a bad boolean with Go's words", () => {
    expect(parseGoFlags(["-force-refresh=yes"])).toEqual({
      kind: "error",
      message: 'invalid boolean value "yes" for -force-refresh: parse error',
    });
  });

  it("parses Go durations, accepting 0 and negative ones as Go does", () => {
    expect(values(["-timeout", "1m30s"]).values.get("timeout")).toBe(90_000);
    expect(values(["-timeout=500ms"]).values.get("timeout")).toBe(500);
    expect(values(["-timeout", ".5s"]).values.get("timeout")).toBe(500);
    expect(values(["-timeout", "1.5h"]).values.get("timeout")).toBe(5_400_000);
    expect(values(["-timeout", "0"]).values.get("timeout")).toBe(0);
    expect(values(["-timeout", "0s"]).values.get("timeout")).toBe(0);
    expect(values(["-timeout", "-1s"]).values.get("timeout")).toBe(-1000);
  });

  it("refuses a bad duration with Go's line, and a bare number with our hint after it", () => {
    expect(parseGoFlags(["-timeout", "10"])).toEqual({
      kind: "error",
      message: 'invalid value "10" for flag -timeout: parse error',
      hint: "a duration needs a unit, e.g. 10s",
    });
    expect(parseGoFlags(["-exec-timeout=1.5"])).toMatchObject({ hint: "a duration needs a unit, e.g. 1.5s" });
    for (const bad of ["soon", "", "9223372036854775808ns", "1S"]) {
      expect(parseGoFlags(["-ts-mon-flush-interval", bad])).toEqual({
        kind: "error",
        message: `invalid value ${JSON.stringify(bad)} for flag -ts-mon-flush-interval: parse error`,
      });
    }
  });

  it("collects a repeatable -token-file-copy and refuses an empty one in Go's words", () => {
    expect(values(["-token-file-copy", "a", "-token-file-copy=b"]).values.get("token-file-copy")).toEqual([
      "a",
      "b",
    ]);
    for (const args of [["-token-file-copy="], ["-token-file-copy", ""]]) {
      expect(parseGoFlags(args)).toEqual({
        kind: "error",
        message: 'invalid value "" for flag -token-file-copy: must have an argument value',
      });
    }
  });

  it("keeps the last value of a repeated flag and takes an empty -flag= as a value", () => {
    const r = values(["-backend", "a:1", "-backend=b:2", "-status-file=", "-token-file", "-x"]);
    expect(r.values.get("backend")).toBe("b:2");
    expect(r.values.get("status-file")).toBe("");
    // Like Go, a value that looks like a flag is still the value.
    expect(r.values.get("token-file")).toBe("-x");
  });

  it("names unknown flags, missing values and bad syntax like Go", () => {
    expect(parseGoFlags(["-nope"])).toEqual({
      kind: "error",
      message: "flag provided but not defined: -nope",
    });
    expect(parseGoFlags(["-backend"])).toEqual({
      kind: "error",
      message: "flag needs an argument: -backend",
    });
    expect(parseGoFlags(["---x"])).toEqual({ kind: "error", message: "bad flag syntax: ---x" });
    expect(parseGoFlags(["-=x"])).toEqual({ kind: "error", message: "bad flag syntax: -=x" });
  });

  it("treats -h and -help, with any value, as a request for help where Go meets them", () => {
    for (const h of ["-h", "-help", "--help", "--h", "-h=false", "-help=1"]) {
      expect(parseGoFlags([h]).kind).toBe("help");
    }
    expect(parseGoFlags(["-backend", "b", "-h", "-nope"]).kind).toBe("help");
    expect(parseGoFlags(["-nope", "-h"]).kind).toBe("error");
    expect(parseGoFlags(["pos", "-h"]).kind).toBe("values");
  });

  it("escapes what Go would print raw only where it would break the line", () => {
    expect(parseGoFlags(["-a\nb"])).toEqual({
      kind: "error",
      message: "flag provided but not defined: -a\\nb",
    });
    expect(parseGoFlags(["-é"])).toEqual({ kind: "error", message: "flag provided but not defined: -é" });
    expect(parseGoFlags(["---\x01"])).toEqual({ kind: "error", message: "bad flag syntax: ---\\x01" });
    expect(parseGoFlags(['-timeout=a"b\tc'])).toEqual({
      kind: "error",
      message: 'invalid value "a\\"b\\tc" for flag -timeout: parse error',
    });
  });

  it("stops at -- and at the first positional argument", () => {
    expect(values(["-backend", "b", "--", "-x"]).positional).toEqual(["-x"]);
    expect(values(["pos", "-x"]).positional).toEqual(["pos", "-x"]);
    expect(values(["-"]).positional).toEqual(["-"]);
  });

  it("accepts every ts-mon flag with its type", () => {
    const r = values([
      "-ts-mon-endpoint",
      "file:///tmp/m.json",
      "-ts-mon-flush=auto",
      "-ts-mon-target-type",
      "device",
      "-ts-mon-flush-interval",
      "30s",
      "-ts-mon-task-number",
      "3",
      "-ts-mon-autogen-hostname",
      "-ts-mon-config-file",
      "/dev/null",
    ]);
    expect(r.values.get("ts-mon-task-number")).toBe(3n);
    expect(r.values.get("ts-mon-flush")).toBe("auto");
    expect(r.values.get("ts-mon-target-type")).toBe("device");
    expect(r.values.get("ts-mon-flush-interval")).toBe(30_000);
    expect(r.values.get("ts-mon-autogen-hostname")).toBe(true);
  });

  it("reads int flags with base prefixes, underscores and signs, as strconv.ParseInt(s, 0, 64)", () => {
    const n = (text: string) => parseGoFlags(["-ts-mon-task-number", text]);
    expect(n("0x10")).toMatchObject({ values: new Map([["ts-mon-task-number", 16n]]) });
    expect(n("-0b101")).toMatchObject({ values: new Map([["ts-mon-task-number", -5n]]) });
    expect(n("x")).toEqual({
      kind: "error",
      message: 'invalid value "x" for flag -ts-mon-task-number: parse error',
    });
    expect(n("9223372036854775808")).toEqual({
      kind: "error",
      message: 'invalid value "9223372036854775808" for flag -ts-mon-task-number: value out of range',
    });
  });

  it("refuses other values of the enum flags with the Go binary's words", () => {
    expect(parseGoFlags(["-ts-mon-flush", "Auto"])).toEqual({
      kind: "error",
      message:
        'invalid value "Auto" for flag -ts-mon-flush: flagenum: Invalid value; must be one of [auto, manual]',
    });
    expect(parseGoFlags(["-ts-mon-target-type=bogus"])).toEqual({
      kind: "error",
      message: "invalid value \"bogus\" for flag -ts-mon-target-type: unknown --ts-mon-target-type 'bogus'",
    });
    // Go prints this value raw; a control character is escaped so the line stays one line.
    expect(parseGoFlags(["-ts-mon-target-type=a\nb"])).toMatchObject({
      message: "invalid value \"a\\nb\" for flag -ts-mon-target-type: unknown --ts-mon-target-type 'a\\nb'",
    });
    expect(parseGoFlags(["-protocol", "http"])).toEqual({
      kind: "error",
      message: 'invalid value "http" for flag -protocol: must be one of prpc, connect, grpc, grpc-web',
    });
    expect(values(["-protocol", "grpc-web"]).values.get("protocol")).toBe("grpc-web");
  });

  it("reads an octal -token-file-mode", () => {
    expect(values(["-token-file-mode", "0600"]).values.get("token-file-mode")).toBe(0o600);
    expect(values(["-token-file-mode=640"]).values.get("token-file-mode")).toBe(0o640);
    expect(parseGoFlags(["-token-file-mode", "999"]).kind).toBe("error");
  });
});
