import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { appendFile, chmod, lstat, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTestPki, type TestPki } from "@luci-machine-tokend/dev-server";
import { beforeAll, describe, expect, it } from "vitest";
import { keyLeaks } from "../../../../core/src/testing/key-leaks.js";
import {
  type DiffWorkspace,
  expectSame,
  IMPLS,
  type Impl,
  type KeptDifference,
  runBoth,
} from "../../testing/differential.js";
import type { DiffContext } from "./context.js";

/** Go fails with CANT_READ_KEY where we mint: the rest of what differs follows from that. */
const GO_REFUSES_THE_INPUTS: Record<string, KeptDifference> = {
  exitCode: { go: 1, ts: 0 },
  "status/update_outcome": { go: "CANT_READ_KEY", ts: "UPDATE_SUCCESS" },
  serverCalled: { go: false, ts: true },
  status: "follows",
  tokens: "follows",
  files: "follows",
};

/** Go refuses a file ours reads, after a good token: Go fails the run where we refresh once. */
const GO_REFUSES_THE_CHANGED_INPUTS: Record<string, KeptDifference> = {
  // Before "status": a pinned path is checked before a "follows" above it hides it.
  "status/update_reason": { go: "PARAMS_CHANGE", ts: "PARAMS_CHANGE" },
  ...GO_REFUSES_THE_INPUTS,
};

/** nobody: CI runs as root, which ignores file modes. */
const UNPRIVILEGED = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

/** What the machine gives the tokend: token files, keys and certificates, good and bad. */
export function localInputScenarios(suite: { ctx: DiffContext; ws: DiffWorkspace }): void {
  let other: TestPki;
  beforeAll(async () => {
    other = await createTestPki({ fqdn: "bot-2.example.com" });
  });
  const run = (extra: string[] = [], kept?: Record<string, KeptDifference>, wrapper?: string[]) => {
    const { ctx, ws } = suite;
    return runBoth(ws, (impl) => [...ws.args(impl, ctx.dev.backend), ...extra], {
      serverCalls: ctx.mints,
      wrapper,
    }).then((r) => expectSame(r, kept));
  };
  /** Each one's failure_error, its own directory and the inputs' written `<dir>` and `<inputs>`. */
  const failureErrors = async () => {
    const { ws } = suite;
    const text = async (impl: Impl) => {
      const status = JSON.parse(await readFile(join(ws.dir(impl), "status.json"), "utf8"));
      return String(status.failure_error)
        .replaceAll(ws.dir(impl), "<dir>")
        .replaceAll(join(ws.root, "inputs"), "<inputs>")
        .replace(/\.\d+_\d+_\d+\.tmp/, ".<tmp>");
    };
    return { go: await text("go"), ts: await text("ts") };
  };
  const inEachDir = async (name: string, content: string) => {
    for (const impl of IMPLS) await writeFile(join(suite.ws.dir(impl), name), content);
  };

  describe("token files", () => {
    it("a damaged token file counts as no token", async () => {
      await inEachDir("token.json", '{"luci_machine_token": "abc", ');
      await run();
    });
    it("an empty token file counts as no token", async () => {
      await inEachDir("token.json", "");
      await run();
    });
    describe.skipIf(process.getuid?.() !== 0)(
      "planted by another user in a directory anyone may write (1777)",
      () => {
        /** Makes each implementation's directory 1777 and runs `command` there as nobody. */
        const plantAsNobody = async (command: string) => {
          await chmod(suite.ws.root, 0o755);
          for (const impl of IMPLS) {
            await chmod(suite.ws.dir(impl), 0o1777);
            execFileSync(UNPRIVILEGED[0] as string, [...UNPRIVILEGED.slice(1), "sh", "-c", command], {
              cwd: suite.ws.dir(impl),
            });
          }
        };
        it("a symlink to a directory at the token path is replaced by the token file", async () => {
          await plantAsNobody("ln -s /etc token.json");
          await run();
        });
        it("a symlink to their file holding the token's bytes at a copy: Go keeps it, we replace it", async () => {
          const { ctx, ws } = suite;
          await run();
          await plantAsNobody("cp token.json theirs && ln -s theirs copy.json");
          const args = (impl: Impl) => [
            ...ws.args(impl, ctx.dev.backend),
            "-token-file-copy",
            join(ws.dir(impl), "copy.json"),
          ];
          const r = await runBoth(ws, args, { serverCalls: ctx.mints });
          expectSame(r, { "status/update_reason": { go: "TOKEN_IS_GOOD", ts: "MISSING_TOKEN_COPY" } });
          for (const impl of IMPLS) {
            const copy = await lstat(join(ws.dir(impl), "copy.json"));
            expect(copy.isSymbolicLink(), impl).toBe(impl === "go");
          }
        });
      },
    );
    it("a good token file over 1 MiB (padded with spaces): Go reads it, we cap reads at 1 MiB", async () => {
      await run();
      for (const impl of IMPLS) await appendFile(join(suite.ws.dir(impl), "token.json"), " ".repeat(1 << 20));
      // docs/MIGRATING-FROM-GO.md: "a token file over 1 MiB".
      await run([], {
        "status/update_outcome": { go: "TOKEN_IS_GOOD", ts: "UPDATE_SUCCESS" },
        "status/update_reason": { go: "TOKEN_IS_GOOD", ts: "NEW_TOKEN" },
        serverCalled: { go: false, ts: true },
        status: "follows",
        tokens: "follows",
      });
    });
    it("a token path that is a directory: the same outcome, but we make no RPC", async () => {
      for (const impl of IMPLS) await mkdir(join(suite.ws.dir(impl), "token.json"));
      // docs/MIGRATING-FROM-GO.md: "a token path that cannot be written".
      await run([], {
        serverCalled: { go: true, ts: false },
        "status/rpc_duration_us": { go: true, ts: false },
        "status/service_version": { go: true, ts: false },
      });
      expect(await failureErrors()).toEqual({
        go: "rename <dir>/token.json.<tmp> <dir>/token.json: file exists",
        ts: "<dir>/token.json is a directory, not a token file",
      });
    });
    it("a directory at <token-file>.lock: both mint and leave it (we run without the lock, and say so)", async () => {
      for (const impl of IMPLS) await mkdir(join(suite.ws.dir(impl), "token.json.lock"));
      await run();
    });
    it("a token path in a directory that does not exist", () => {
      const { ctx, ws } = suite;
      const args = (impl: Impl) => [
        ...ws.args(impl, ctx.dev.backend),
        "-token-file",
        join(ws.dir(impl), "missing", "token.json"),
      ];
      // We check that the token can be saved before asking for one; Go mints, then fails to save.
      return runBoth(ws, args, { serverCalls: ctx.mints }).then((r) =>
        expectSame(r, {
          serverCalled: { go: true, ts: false },
          "status/rpc_duration_us": { go: true, ts: false },
          "status/service_version": { go: true, ts: false },
        }),
      );
    });
  });

  describe("keys and certificates", () => {
    it("no key file", async () => {
      await suite.ws.setInputs("", suite.ctx.pki.certPem);
      const { ctx, ws } = suite;
      await runBoth(
        ws,
        (impl) => [...ws.args(impl, ctx.dev.backend)].map((a) => (a === ws.keyPath ? `${a}.missing` : a)),
        { serverCalls: ctx.mints },
      ).then((r) => expectSame(r));
    });
    it("a key that does not match the certificate", async () => {
      await suite.ws.setInputs(other.keyPem, suite.ctx.pki.certPem);
      await run();
    });
    it("the key and certificate files swapped: the same outcome; our failure_error says so (MIGRATING)", async () => {
      await suite.ws.setInputs(suite.ctx.pki.certPem, suite.ctx.pki.keyPem);
      await run();
      const failureError = async (impl: Impl) =>
        JSON.parse(await readFile(join(suite.ws.dir(impl), "status.json"), "utf8")).failure_error;
      expect(await failureError("go")).toBe('not a supported private key type - "CERTIFICATE"');
      expect(await failureError("ts")).toBe(
        `${suite.ws.keyPath}: not a valid private key PEM - this file holds a certificate, and ${suite.ws.certPath}, given as the certificate, holds the private key: the two are swapped`,
      );
    });
    it("a key that is not PEM", async () => {
      await suite.ws.setInputs("not a key\n", suite.ctx.pki.certPem);
      await run();
    });
    it("a broken key fails the run even when the token is good", async () => {
      await run();
      await suite.ws.setInputs(other.keyPem, suite.ctx.pki.certPem);
      await run();
    });
    it("the key's text pasted into -pkey-pem: Go prints the key (CANT_READ_KEY), we refuse the flag unshown", async () => {
      const { ctx, ws } = suite;
      const pasted = (impl: Impl) =>
        ws.args(impl, ctx.dev.backend).map((a) => (a === ws.keyPath ? ctx.pki.keyPem : a));
      const r = await runBoth(ws, pasted, { serverCalls: ctx.mints });
      expectSame(r, {
        exitCode: { go: 1, ts: 2 },
        firstStderrLine: {
          go: undefined,
          ts: "invalid value for flag -pkey-pem: PEM text (a private key), not a file path (not shown)",
        },
        "status/update_outcome": { go: "CANT_READ_KEY", ts: undefined },
        status: "follows",
        files: { go: ["status.json"], ts: [] },
      });
      const goStatus = await readFile(join(ws.dir("go"), "status.json"), "utf8");
      expect(keyLeaks(`${r.go.result.stderr}${goStatus}`, ctx.pki.keyPem)).not.toEqual([]);
      expect(keyLeaks(`${r.ts.result.stdout}${r.ts.result.stderr}`, ctx.pki.keyPem)).toEqual([]);
    });
    it("a key the user cannot read", async () => {
      const { ws } = suite;
      await chmod(ws.root, 0o755);
      await chmod(join(ws.root, "inputs"), 0o755);
      await chmod(ws.keyPath, 0o600); // root's
      for (const impl of IMPLS) await chmod(ws.dir(impl), 0o777);
      await run([], undefined, UNPRIVILEGED);
    });
  });

  describe("where we accept more than Go (docs/MIGRATING-FROM-GO.md)", () => {
    it("a PKCS#8 key", async () => {
      const { createPrivateKey } = await import("node:crypto");
      const pkcs8 = createPrivateKey(suite.ctx.pki.keyPem)
        .export({ type: "pkcs8", format: "pem" })
        .toString();
      await suite.ws.setInputs(pkcs8, suite.ctx.pki.certPem);
      await run([], GO_REFUSES_THE_INPUTS);
    });
    it("a certificate file holding a chain (leaf first, then the CA)", async () => {
      await suite.ws.setInputs(suite.ctx.pki.keyPem, `${suite.ctx.pki.certPem}${suite.ctx.pki.caCertPem}`);
      await run([], GO_REFUSES_THE_INPUTS);
    });
    // docs/MIGRATING-FROM-GO.md: "key and certificate files with more than their one PEM block".
    const cert = () => `${suite.ctx.pki.certPem.trimEnd()}\n`;
    const key = () => suite.ctx.pki.keyPem;
    it.each([
      ["a blank line after the key", () => [`${key()}\n`, cert()]],
      ["text after the key", () => [`${key()}# the bot's key\n`, cert()]],
      ["the certificate, then the key, in the key file", () => [`${cert()}${key()}`, cert()]],
      ["the key, then the certificate, in the key file", () => [`${key()}${cert()}`, cert()]],
      ["a blank line after the certificate", () => [key(), `${cert()}\n`]],
      ["a line of spaces after the certificate", () => [key(), `${cert()}  \n`]],
      ["text after the certificate", () => [key(), `${cert()}# issued by the bot CA\n`]],
    ])("%s", async (_name, files) => {
      const [keyPem, certPem] = files();
      await suite.ws.setInputs(keyPem as string, certPem as string);
      await run([], GO_REFUSES_THE_INPUTS);
    });
    it("a blank line added to the certificate file of a good token: Go fails every run, we refresh once", async () => {
      await suite.ws.setInputs(key(), cert());
      await run();
      await appendFile(suite.ws.certPath, "\n");
      // docs/MIGRATING-FROM-GO.md: "a whitespace change to the certificate file".
      await run([], GO_REFUSES_THE_CHANGED_INPUTS);
      await run([], {
        ...GO_REFUSES_THE_CHANGED_INPUTS,
        "status/update_outcome": { go: "CANT_READ_KEY", ts: "TOKEN_IS_GOOD" },
        "status/update_reason": { go: "PARAMS_CHANGE", ts: "TOKEN_IS_GOOD" },
        serverCalled: { go: false, ts: false },
      });
    });
  });

  // docs/MIGRATING-FROM-GO.md: "failure_error of a local error": the same outcome, ours names the file.
  describe("failure_error of local errors", () => {
    it("an empty certificate file", async () => {
      await suite.ws.setInputs(suite.ctx.pki.keyPem, "");
      await run();
      expect(await failureErrors()).toEqual({
        go: "not a valid certificate PEM",
        ts: "<inputs>/cert.pem: file is empty, expecting a PEM certificate",
      });
    });
    it("an EC key and its certificate", async () => {
      const ecKey = generateKeyPairSync("ec", { namedCurve: "P-256" })
        .privateKey.export({ type: "sec1", format: "pem" })
        .toString();
      const ec = await suite.ctx.pki.issue({ keyPem: ecKey });
      await suite.ws.setInputs(ec.keyPem, ec.certPem);
      await run();
      expect(await failureErrors()).toEqual({
        go: 'not a supported private key type - "EC PRIVATE KEY"',
        ts: '<inputs>/key.pem: not a supported private key type - "EC PRIVATE KEY" (only RSA keys work)',
      });
    });
    it("a copy path that is a directory, when minting", async () => {
      const { ctx, ws } = suite;
      for (const impl of IMPLS) await mkdir(join(ws.dir(impl), "copy.json"));
      const args = (impl: Impl) => [
        ...ws.args(impl, ctx.dev.backend),
        "-token-file-copy",
        join(ws.dir(impl), "copy.json"),
      ];
      expectSame(await runBoth(ws, args, { serverCalls: ctx.mints }));
      expect(await failureErrors()).toEqual({
        go: "rename <dir>/copy.json.<tmp> <dir>/copy.json: file exists",
        ts: "<dir>/copy.json is a directory, not a token file",
      });
    });
  });

  describe("token directories", () => {
    it("a token directory the user cannot write", async () => {
      const { ws } = suite;
      await chmod(ws.root, 0o755);
      await chmod(join(ws.root, "inputs"), 0o755);
      await chmod(ws.keyPath, 0o644);
      for (const impl of IMPLS) {
        await mkdir(join(ws.dir(impl), "status"), { mode: 0o777 });
        await chmod(join(ws.dir(impl), "status"), 0o777);
      }
      const { ctx } = suite;
      const args = (impl: Impl) =>
        ws
          .args(impl, ctx.dev.backend)
          .map((a) =>
            a === join(ws.dir(impl), "status.json") ? join(ws.dir(impl), "status", "status.json") : a,
          );
      const r = await runBoth(ws, args, {
        serverCalls: ctx.mints,
        wrapper: UNPRIVILEGED,
        statusName: join("status", "status.json"),
      });
      expectSame(r, {
        serverCalled: { go: true, ts: false },
        "status/rpc_duration_us": { go: true, ts: false },
        "status/service_version": { go: true, ts: false },
      });
    });
  });
}
