import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { runCli } from "../testing/run-cli.js";

describe("the built CLI's flags", () => {
  it("prints Go's usage on stderr for -h with exit 0, and the bundled package version for -version", async () => {
    const help = await runCli(["-h"]);
    expect([help.code, help.stdout]).toEqual([0, ""]);
    expect(help.stderr).toMatch(/^Usage:\n {2}-backend string\n {4}\t.+\n {2}-cert-pem string\n/);
    expect(help.stderr).toMatch(/\n {2}-timeout duration\n {4}\t.+ \(default 1m0s\)\n/);
    expect(help.stderr).toContain("\nOptions beyond the Go tokend:\n");

    const { version } = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8"));
    const v = await runCli(["--version"]);
    expect([v.code, v.stdout, v.stderr]).toEqual([0, `${version}\n`, ""]);
  });
});
