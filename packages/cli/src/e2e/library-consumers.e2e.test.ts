import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { calcDigest } from "@luci-machine-tokend/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadedModules, packagesOf } from "../../../core/src/testing/loaded-modules.js";
import { runTokend } from "../run-tokend.js";
import { importsOf, npmInstall, type PackedTarball, packWorkspaces, ROOT } from "../testing/npm-pack.js";
import { runProgram } from "../testing/run-cli.js";
import { startTestTokenServer } from "../testing/test-token-server.js";
import { createTokendFixture } from "../testing/tokend-fixture.js";

const PACKAGES = ["@luci-machine-tokend/core", "@luci-machine-tokend/dev-server", "luci-machine-tokend"];

/** Uses every entry point; the same lines as ESM (`import`) and CommonJS (`require`). */
const USE = `
const digest = core.calcDigest({ a: "b" });
const duration = internal.formatGoDuration(internal.parseGoDuration("1m30s").value);
const file = gen.TokenFileSchema.typeName;
const prpc = protocolPrpc.PRPC_BINARY_CONTENT_TYPE;
const tsMonText = \`\${tsMon.MetricsPayloadSchema.typeName} \${tsMon.goFloatText(1e6, 64)} \${typeof tsMon.insertMetrics}\`;
const pki = await devServer.createTestPki({ fqdn: "bot-1.example.com" });
const server = await devServer.startDevServer({
  caCertificates: [pki.caCertPem],
  domains: [{ domain: "example.com", lifetimeMs: 3_600_000 }],
  grpcPort: false,
});
await server.close();
const credentials = [core.createMachineTokenSource, core.machineTokenInterceptor, core.withMachineToken, core.startTokenRefresher].map((f) => typeof f).join();
console.log(JSON.stringify({ digest, duration, file, prpc, tsMonText, backend: /^127\\.0\\.0\\.1:\\d+$/.test(server.backend), runTokend: typeof cli.runTokend, credentials }));
`;

const ESM = `import * as core from "@luci-machine-tokend/core";
import * as gen from "@luci-machine-tokend/core/gen";
import * as internal from "@luci-machine-tokend/core/internal";
import * as protocolPrpc from "@luci-machine-tokend/core/protocol-prpc";
import * as tsMon from "@luci-machine-tokend/core/ts-mon";
import * as devServer from "@luci-machine-tokend/dev-server";
import * as cli from "luci-machine-tokend";
${USE}`;

const CJS = `const core = require("@luci-machine-tokend/core");
const gen = require("@luci-machine-tokend/core/gen");
const internal = require("@luci-machine-tokend/core/internal");
const protocolPrpc = require("@luci-machine-tokend/core/protocol-prpc");
const tsMon = require("@luci-machine-tokend/core/ts-mon");
const devServer = require("@luci-machine-tokend/dev-server");
const cli = require("luci-machine-tokend");
(async () => {${USE}})();`;

/** Typed uses of each entry point; `@ts-expect-error` fails if a type resolved to `any`. */
const TYPED = `import {
  calcDigest,
  createMachineTokenSource,
  decideUpdateReason,
  type MachineTokenSource,
  machineTokenInterceptor,
  type StatusReport,
  type UpdateReason,
} from "@luci-machine-tokend/core";
import { type TokenFile, TokenFileSchema } from "@luci-machine-tokend/core/gen";
import { parseGoDuration } from "@luci-machine-tokend/core/internal";
import { type PrpcFormat, prpcFormatFromMediaType } from "@luci-machine-tokend/core/protocol-prpc";
import { type DevServer, startDevServer } from "@luci-machine-tokend/dev-server";
import { runTokend, type TokendOptions } from "luci-machine-tokend";

export const digest: string = calcDigest({ a: "b" });
export const reason: UpdateReason = decideUpdateReason({ token: undefined, state: undefined, inputsDigest: digest, now: new Date() });
export const start: () => Promise<DevServer> = startDevServer;
export const run: (options: TokendOptions) => Promise<StatusReport> = runTokend;
export const fileName: TokenFile["$typeName"] = TokenFileSchema.typeName;
export const format: { format: PrpcFormat } | { error: string } = prpcFormatFromMediaType("application/json");
// @ts-expect-error a duration is not a string
export const wrong: string = parseGoDuration("1s").value;
export const tokens: MachineTokenSource = createMachineTokenSource({ tokenFile: "token.json" });
export const interceptor = machineTokenInterceptor(tokens);
// @ts-expect-error a token is a string
export const notToken: Promise<number> = tokens.getToken();
`;

/**
 * A Node service on a bot: the CLI (the packed bin, as cron runs it) keeps the token file; the
 * service's Connect client sends the token with createMachineTokenSource + machineTokenInterceptor
 * to a LUCI service that verifies it against the token server's published certificate; a
 * refresher on the same file finds the CLI's token good and makes no second RPC.
 */
const CREDENTIALS = `import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { promisify } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import {
  createMachineTokenSource,
  machineTokenInterceptor,
  startTokenRefresher,
  verifyMachineToken,
} from "@luci-machine-tokend/core";
import { TokenMinter } from "@luci-machine-tokend/core/gen";
import { createTestPki, startDevServer } from "@luci-machine-tokend/dev-server";

// The bot: a token server, the machine's key and certificate, and a cron run of the CLI.
const pki = await createTestPki({ fqdn: "bot-1.example.com" });
const tokenServer = await startDevServer({
  caCertificates: [pki.caCertPem],
  domains: [{ domain: "example.com", lifetimeMs: 3_600_000 }],
  grpcPort: false,
});
await writeFile("bot-cert.pem", pki.certPem);
await writeFile("bot-key.pem", pki.keyPem, { mode: 0o600 });
const tokenFile = "bot-token.json";
const bin = "node_modules/luci-machine-tokend/bin/luci-machine-tokend.js";
const flags = ["-backend", tokenServer.backend, "-cert-pem", "bot-cert.pem", "-pkey-pem", "bot-key.pem", "-token-file", tokenFile];
await promisify(execFile)(process.execPath, [bin, ...flags]);

// A LUCI service (any Connect service; TokenMinter's descriptor is at hand) that trusts the
// token server's published signing certificate and answers with the caller's identity.
const certificates = await (await fetch(tokenServer.url + "/auth/api/v1/server/certificates")).json();
const service = createServer(connectNodeAdapter({
  routes: (router) => router.service(TokenMinter, {
    async mintMachineToken(_req, ctx) {
      try {
        const token = ctx.requestHeader.get("X-Luci-Machine-Token") ?? "";
        const { body } = await verifyMachineToken(token, { certificates, now: new Date() });
        return { serviceVersion: "bot:" + body.machineFqdn };
      } catch (err) {
        throw new ConnectError(err.message, Code.Unauthenticated);
      }
    },
  }),
}));
await new Promise((resolve) => service.listen(0, "127.0.0.1", resolve));

// The consumer: its Connect calls carry the token the CLI keeps.
const tokens = createMachineTokenSource({ tokenFile });
const client = createClient(TokenMinter, createConnectTransport({
  baseUrl: "http://127.0.0.1:" + service.address().port,
  httpVersion: "1.1",
  interceptors: [machineTokenInterceptor(tokens)],
}));
const { serviceVersion: caller } = await client.mintMachineToken({});

// A refresher on the same file finds the CLI's token good: no second RPC.
const refresher = startTokenRefresher({ backend: tokenServer.backend, certPem: "bot-cert.pem", keyPem: "bot-key.pem", tokenFile });
const same = (await refresher.getToken()) === (await tokens.getToken());
await refresher.stop();
service.closeAllConnections();
service.close();
await tokenServer.close();
console.log(JSON.stringify({ caller, same, rpcs: tokenServer.requests.length }));
`;

/** How consumers set up TypeScript: Node's own resolution (two generations) and bundlers. */
const TS_SETUPS: Record<string, { module: string; moduleResolution: string }> = {
  node16: { module: "node16", moduleResolution: "node16" },
  nodenext: { module: "nodenext", moduleResolution: "nodenext" },
  bundler: { module: "esnext", moduleResolution: "bundler" },
};

// The three packages packed, installed together into a new project, and used there as ES module,
// CommonJS and TypeScript consumers would.
describe("library consumers of the packed packages", () => {
  let app: string;
  let tarballs: PackedTarball[];
  const node = (file: string) => runProgram([process.execPath, file], [], { cwd: app });

  beforeAll(async () => {
    app = await mkdtemp(join(tmpdir(), "tokend-consumer-"));
    tarballs = await packWorkspaces(PACKAGES, app);
    await writeFile(
      join(app, "package.json"),
      '{ "name": "consumer", "version": "1.0.0", "private": true }\n',
    );
    // The consumer's own Connect dependencies (the credentials script builds a client and a
    // service), at the versions core depends on.
    const core = JSON.parse(await readFile(join(ROOT, "packages/core/package.json"), "utf8"));
    const connect = ["@connectrpc/connect", "@connectrpc/connect-node"].map(
      (name) => `${name}@${core.dependencies[name]}`,
    );
    await npmInstall([...tarballs.map((t) => t.path), ...connect], app);
  }, 120_000);
  afterAll(() => rm(app, { recursive: true, force: true }));

  it("ship README, LICENSE, exact versions, every import declared and nothing unused, no source maps", async () => {
    for (const tarball of tarballs) {
      const dir = join(app, "node_modules", tarball.name);
      const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
      expect(tarball.files).toEqual(expect.arrayContaining(["README.md", "LICENSE", "package.json"]));
      expect(tarball.files.filter((f) => f.endsWith(".map"))).toEqual([]);
      const declared = { ...pkg.dependencies, ...pkg.peerDependencies } as Record<string, string>;
      for (const [name, version] of Object.entries(declared))
        expect([name, version]).toEqual([name, expect.stringMatching(/^\d+\.\d+\.\d+$/)]);
      // The CommonJS twins import twins: a `.d.cts` importing a `.js` file's types is TS1479 under node16.
      for (const twin of tarball.files.filter((f) => f.endsWith(".d.cts"))) {
        const relative = importsOf(await readFile(join(dir, twin), "utf8")).filter((s) => s.startsWith("."));
        expect([twin, relative.filter((s) => !s.endsWith(".cjs"))]).toEqual([twin, []]);
        for (const spec of relative)
          expect(tarball.files).toContain(join(twin, "..", spec.replace(/\.cjs$/, ".d.cts")));
      }
      const used = new Set<string>();
      for (const file of tarball.files.filter((f) => /\.(js|d\.ts|d\.cts)$/.test(f))) {
        for (const spec of importsOf(await readFile(join(dir, file), "utf8"))) {
          if (spec.startsWith(".") || isBuiltin(spec)) continue;
          const name = spec
            .split("/")
            .slice(0, spec.startsWith("@") ? 2 : 1)
            .join("/");
          if (file.endsWith(".js")) used.add(name);
          expect([tarball.name, file, name, name in declared]).toEqual([tarball.name, file, name, true]);
        }
      }
      expect([tarball.name, Object.keys(pkg.dependencies ?? {}).filter((d) => !used.has(d))]).toEqual([
        tarball.name,
        [],
      ]);
    }
  });

  it("work from an ES module and from CommonJS (require)", async () => {
    await writeFile(join(app, "esm.mjs"), ESM);
    await writeFile(join(app, "cjs.cjs"), CJS);
    const expected = {
      digest: calcDigest({ a: "b" }),
      duration: "1m30s",
      file: "tokenserver.TokenFile",
      prpc: "application/prpc; encoding=binary",
      backend: true,
      runTokend: "function",
      credentials: "function,function,function,function",
      tsMonText: "ts_mon.proto.MetricsPayload 1e+06 function",
    };
    for (const file of ["esm.mjs", "cjs.cjs"]) {
      const r = await node(file);
      expect([file, r.code, r.stderr]).toEqual([file, 0, ""]);
      expect(JSON.parse(r.stdout)).toEqual(expected);
    }
  });

  it("load no npm package with the package root or /internal (protobuf-es and Connect wait for first use)", async () => {
    for (const entry of ["@luci-machine-tokend/core", "@luci-machine-tokend/core/internal"]) {
      const run = await loadedModules(["--input-type=module", "-e", `import ${JSON.stringify(entry)};`], {
        cwd: app,
      });
      expect([entry, run.code, packagesOf(run.urls)]).toEqual([entry, 0, ["@luci-machine-tokend/core"]]);
    }
    const gen = await loadedModules(
      ["--input-type=module", "-e", 'import "@luci-machine-tokend/core/gen";'],
      {
        cwd: app,
      },
    );
    expect(packagesOf(gen.urls)).toEqual(["@bufbuild/protobuf", "@luci-machine-tokend/core"]);
  });

  it("give a service the token the CLI keeps: token source and interceptor against the dev server", async () => {
    // ES module only: CommonJS gets the same functions (see "work from … CommonJS" above).
    await writeFile(join(app, "credentials.mjs"), CREDENTIALS);
    const r = await node("credentials.mjs");
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(JSON.parse(r.stdout)).toEqual({ caller: "bot:bot-1.example.com", same: true, rpcs: 1 });
  });

  it("run the examples of their READMEs", async () => {
    await writeFile(join(app, "cert.pem"), "CERT\n");
    await writeFile(join(app, "key.pem"), "PKEY\n");
    await writeMachineToken(join(app, "machine-token.json"));
    const outputs: string[] = [];
    for (const name of PACKAGES) {
      const readme = await readFile(join(app, "node_modules", name, "README.md"), "utf8");
      for (const [i, m] of [...readme.matchAll(/```(js|cjs)\n([\s\S]*?)```/g)].entries()) {
        const file = `readme-${name.replace(/\W+/g, "-")}-${i}.${m[1] === "cjs" ? "cjs" : "mjs"}`;
        await writeFile(join(app, file), m[2] ?? "");
        const r = await node(file);
        expect([file, r.code, r.stderr]).toEqual([file, 0, ""]);
        outputs.push(r.stdout);
      }
    }
    expect(outputs).toEqual([
      "bot-1.example.com\n",
      "NEW_TOKEN\n",
      "1800\n",
      expect.stringMatching(/^token server at 127\.0\.0\.1:\d+\n$/),
      `${tarballs[0]?.version}\n`,
    ]);
  });

  it("type-check for .mts and .cts consumers under moduleResolution node16, nodenext and bundler", async () => {
    await writeFile(join(app, "typed.mts"), TYPED);
    await writeFile(join(app, "typed.cts"), TYPED);
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    const results = await Promise.all(
      Object.entries(TS_SETUPS).map(async ([setup, options]) => {
        const config = `tsconfig.${setup}.json`;
        const compilerOptions = {
          ...options,
          target: "ES2022",
          lib: ["ES2023", "DOM"],
          strict: true,
          noEmit: true,
          // As most projects: checking every library's declarations takes minutes, and one of
          // @peculiar/x509's fails under node16; the test above checks the twins' imports instead.
          skipLibCheck: true,
          types: ["node"],
          typeRoots: [join(ROOT, "node_modules/@types")],
        };
        await writeFile(
          join(app, config),
          JSON.stringify({ compilerOptions, files: ["typed.mts", "typed.cts"] }),
        );
        const out = await promisify(execFile)(process.execPath, [tsc, "-p", config], { cwd: app }).then(
          () => "",
          (err: { stdout: string }) => err.stdout,
        );
        return [setup, out];
      }),
    );
    expect(results).toEqual(Object.keys(TS_SETUPS).map((setup) => [setup, ""]));
  }, 120_000);
});

/** A token file for the README's credentials example, kept by a real run against the dev server. */
async function writeMachineToken(path: string): Promise<void> {
  const { pki, server } = await startTestTokenServer();
  const fx = await createTokendFixture(pki);
  try {
    const report = await runTokend(fx.options(server.backend));
    expect(report.updateOutcome).toBe("UPDATE_SUCCESS");
    await copyFile(fx.tokenPath, path);
  } finally {
    await server.close();
    await fx.cleanup();
  }
}
