import { describe, expect, it } from "vitest";
import { commandLine } from "./command-line.js";

describe("commandLine", () => {
  it("keeps plain words and quotes the rest on one line", () => {
    expect(commandLine(["luci-machine-tokend", "check", "-cert-pem", "/etc/a b/cert.pem"])).toBe(
      'luci-machine-tokend check -cert-pem "/etc/a b/cert.pem"',
    );
    expect(commandLine(["-token-file", "t\nx", "", "it's"])).toBe('-token-file "t\\nx" "" "it\'s"');
  });
});
