import { describe, expect, it } from "vitest";
import { FLAGS, type FlagSpec } from "./flags.js";
import { describeFlag, usageText } from "./usage.js";

const flag = (name: string) => {
  const spec = FLAGS.get(name);
  if (!spec) throw new Error(name);
  return spec;
};

describe("usageText (Go's flag.PrintDefaults layout)", () => {
  const text = usageText();
  const lines = text.split("\n");

  it("starts with Go's `Usage:` and lists Go's flags sorted by name (byte order), then ours", () => {
    expect(lines[0]).toBe("Usage:");
    const heads = lines.filter((l) => l.startsWith("  -")).map((l) => l.split(" ")[2]?.slice(1));
    const go = [...FLAGS.values()].filter((f) => !f.ours).map((f) => f.name);
    const ours = [...FLAGS.values()].filter((f) => f.ours).map((f) => f.name);
    const sorted = (names: string[]) => [...names].sort();
    expect(heads).toEqual([...sorted(go), ...sorted(ours)]);
    expect(heads.indexOf("token-file")).toBeLessThan(heads.indexOf("token-file-copy"));
    expect(lines.indexOf("Options beyond the Go tokend:")).toBe(
      lines.indexOf(`  -${sorted(ours)[0]} string`) - 1,
    );
    expect(text).toMatch(/\nSubcommands .*\n {2}inspect {5}/);
    expect(text.endsWith("2 bad flags.\n")).toBe(true);
  });

  it("prints Go's type words and defaults: quoted strings, bare durations and enums, no zero values", () => {
    expect(describeFlag(flag("backend"))).toBe(`  -backend string\n    \t${flag("backend").usage}`);
    expect(describeFlag(flag("force-refresh"))).toMatch(/^ {2}-force-refresh\n {4}\t/);
    expect(describeFlag(flag("timeout"))).toMatch(/^ {2}-timeout duration\n {4}\t.* \(default 1m0s\)$/);
    expect(describeFlag(flag("token-file-copy"))).toMatch(/^ {2}-token-file-copy value\n/);
    expect(describeFlag(flag("ts-mon-task-job-name"))).toMatch(/ \(default "default"\)$/);
    expect(describeFlag(flag("ts-mon-target-type"))).toMatch(
      /^ {2}-ts-mon-target-type value\n.* \(default task\)$/s,
    );
    expect(describeFlag(flag("ts-mon-flush"))).toMatch(/^ {2}-ts-mon-flush value\n {4}\t[^(]*$/);
    expect(describeFlag(flag("ts-mon-task-number"))).toMatch(/^ {2}-ts-mon-task-number int\n {4}\t[^(]*$/);
    expect(describeFlag(flag("splay"))).not.toContain("(default");
    expect(describeFlag(flag("protocol"))).toMatch(/^ {2}-protocol value\n.* \(default prpc\)$/s);
    expect(describeFlag(flag("token-file-mode"))).toMatch(
      /^ {2}-token-file-mode mode\n.* \(default 0644\)$/s,
    );
  });

  it("puts a one-letter bool's usage on its line and indents multi-line usage, as Go does", () => {
    const spec: FlagSpec = { name: "v", kind: "bool", usage: "verbose\nreally" };
    expect(describeFlag(spec)).toBe("  -v\tverbose\n    \treally");
    expect(describeFlag({ name: "n", kind: "int", usage: "count", default: "3" })).toBe(
      "  -n int\n    \tcount (default 3)",
    );
  });
});
