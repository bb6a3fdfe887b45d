import { describe, expect, it } from "vitest";
import { commandLine, shellWord } from "./command-line.js";

describe("commandLine", () => {
  it("keeps plain words and single-quotes the rest, on one line", () => {
    expect(commandLine(["luci-machine-tokend", "check", "-cert-pem", "/etc/a b/cert.pem"])).toBe(
      "luci-machine-tokend check -cert-pem '/etc/a b/cert.pem'",
    );
  });

  it.each([
    ["/var/lib/t.json", "/var/lib/t.json"],
    ["", "''"],
    ["it's", "'it'\\''s'"],
    ["$(touch x)", "'$(touch x)'"],
    ["`id`;ls", "'`id`;ls'"],
    ['a "b" \\c', "'a \"b\" \\c'"],
    ["~/x", "'~/x'"],
    ["é ü", "'é ü'"],
    // Control characters, line separators and bidi controls: $'…' with escapes, so one line.
    ["t\nx", "$'t\\nx'"],
    ["a\tb\rc", "$'a\\tb\\rc'"],
    ["it's\n", "$'it\\'s\\n'"],
    ["\\\n!", "$'\\\\\\n\\041'"],
    ["\x1b[31m", "$'\\033[31m'"],
    ["\u202eevil", "$'\\342\\200\\256evil'"],
    ["\x7f1", "$'\\1771'"],
  ])("shellWord(%j) is %s", (word, quoted) => {
    expect(shellWord(word)).toBe(quoted);
  });
});
