import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDevServerCli } from "./cli.js";
import { createTestPki } from "./test-pki.js";

let dir: string;
let ca: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "dev-server-cli-"));
  ca = join(dir, "ca.pem");
  await writeFile(ca, (await createTestPki({ fqdn: "bot-1.example.com" })).caCertPem);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function cli(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runDevServerCli(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

describe("dev-server command line", () => {
  it("refuses to start without --ca-cert or --domain, with a one-line reason", async () => {
    expect(await cli(["--domain", "example.com=1h"])).toEqual({
      code: 2,
      stdout: "",
      stderr:
        "dev-server: --ca-cert FILE is required (the CA that issued the machines' certificates); luci-machine-tokend dev-server -h lists the flags\n",
    });
    expect(await cli(["--ca-cert", ca])).toEqual({
      code: 2,
      stdout: "",
      stderr:
        "dev-server: --domain DOMAIN=LIFETIME is required (which machines get tokens, e.g. example.com=1h); luci-machine-tokend dev-server -h lists the flags\n",
    });
    expect((await cli([])).stderr).toMatch(/^dev-server: --ca-cert FILE is required .*\n$/);
  });
});
