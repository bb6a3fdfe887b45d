import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

describe("packaging", () => {
  it("`npx luci-machine-tokend` and `npx luci_machine_tokend` work in the workspace", () => {
    const version = execFileSync("npx", ["--no-install", "luci-machine-tokend", "-version"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    let code = 0;
    let stderr = "";
    try {
      execFileSync("npx", ["--no-install", "luci_machine_tokend", "-pkey-pem", "k"], {
        cwd: ROOT,
        encoding: "utf8",
        stdio: "pipe",
      });
    } catch (err) {
      ({ status: code, stderr } = err as { status: number; stderr: string });
    }
    expect([code, stderr.split("\n")[0]]).toEqual([2, "-cert-pem is required"]);
  });

  it("installs from `npm pack` tarballs into an empty folder and runs there", async () => {
    const packs = await mkdtemp(join(tmpdir(), "tokend-pack-"));
    const app = await mkdtemp(join(tmpdir(), "tokend-app-"));
    try {
      execFileSync(
        "npm",
        [
          "pack",
          "--silent",
          "-w",
          "@luci-machine-tokend/core",
          "-w",
          "@luci-machine-tokend/dev-server",
          "-w",
          "luci-machine-tokend",
          "--pack-destination",
          packs,
        ],
        { cwd: ROOT, stdio: "pipe" },
      );
      const tarballs = (await readdir(packs)).map((f) => join(packs, f));
      expect(tarballs).toHaveLength(3);
      execFileSync("npm", ["init", "-y"], { cwd: app, stdio: "pipe" });
      execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...tarballs], {
        cwd: app,
        stdio: "pipe",
      });
      const version = execFileSync("npx", ["--no-install", "luci-machine-tokend", "-version"], {
        cwd: app,
        encoding: "utf8",
      });
      expect(version).toMatch(/^\d+\.\d+\.\d+/);
      // The whole job from the installed package: dev server, demo key, one real run.
      const demo = execFileSync(
        "npx",
        ["--no-install", "luci-machine-tokend", "demo", "--dir", join(app, "demo")],
        {
          cwd: app,
          encoding: "utf8",
        },
      );
      expect(demo).toMatch(/outcome {7}UPDATE_SUCCESS \(reason NEW_TOKEN\), 1 MintMachineToken RPC\n/);
      expect(demo).toMatch(/signature {5}valid/);
      // A library consumer imports the core API from the installed package.
      const out = execFileSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          'import { calcDigest, decideUpdateReason, readTokenFile, writeTokenFile, mintToken } from "@luci-machine-tokend/core"; console.log([calcDigest, decideUpdateReason, readTokenFile, writeTokenFile, mintToken].map((f) => typeof f).join(","))',
        ],
        { cwd: app, encoding: "utf8" },
      );
      expect(out.trim()).toBe("function,function,function,function,function");
    } finally {
      await Promise.all([
        rm(packs, { recursive: true, force: true }),
        rm(app, { recursive: true, force: true }),
      ]);
    }
  }, 120_000);
});
