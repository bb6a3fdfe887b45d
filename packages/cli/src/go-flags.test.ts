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

  it("parses Go durations and rejects bad ones", () => {
    expect(values(["-timeout", "1m30s"]).values.get("timeout")).toBe(90_000);
    expect(values(["-timeout=500ms"]).values.get("timeout")).toBe(500);
    expect(values(["-timeout", "0"]).values.get("timeout")).toBe(0);
    expect(parseGoFlags(["-timeout", "60"])).toEqual({
      kind: "error",
      message: 'invalid value "60" for flag -timeout: parse error',
    });
  });

  it("collects a repeatable -token-file-copy and refuses an empty one", () => {
    expect(values(["-token-file-copy", "a", "-token-file-copy=b"]).values.get("token-file-copy")).toEqual([
      "a",
      "b",
    ]);
    expect(parseGoFlags(["-token-file-copy="]).kind).toBe("error");
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

  it("treats -h and -help as a request for help", () => {
    for (const h of ["-h", "-help", "--help", "--h"]) expect(parseGoFlags([h]).kind).toBe("help");
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
      "-ts-mon-flush-interval",
      "30s",
      "-ts-mon-task-number",
      "3",
      "-ts-mon-autogen-hostname",
      "-ts-mon-config-file",
      "/dev/null",
    ]);
    expect(r.values.get("ts-mon-task-number")).toBe(3);
    expect(r.values.get("ts-mon-flush-interval")).toBe(30_000);
    expect(r.values.get("ts-mon-autogen-hostname")).toBe(true);
    expect(parseGoFlags(["-ts-mon-task-number", "x"]).kind).toBe("error");
  });

  it("reads an octal -token-file-mode", () => {
    expect(values(["-token-file-mode", "0600"]).values.get("token-file-mode")).toBe(0o600);
    expect(values(["-token-file-mode=640"]).values.get("token-file-mode")).toBe(0o640);
    expect(parseGoFlags(["-token-file-mode", "999"]).kind).toBe("error");
  });
});
