import { writeFile } from "node:fs/promises";
import { rootCertificates } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../testing/temp-dir.js";
import { makeTlsCa } from "../testing/tls-fixtures.js";
import { trustRootsFor } from "./trust-roots.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let bundle: string;
let sslCertFile: string;
let nodeExtra: string;
const pems: Record<string, string> = {};

beforeAll(async () => {
  tmp = await makeTempDir();
  const [a, b, c] = await Promise.all([makeTlsCa("Bundle CA"), makeTlsCa("SSL CA"), makeTlsCa("Extra CA")]);
  bundle = tmp.path("bundle.pem");
  sslCertFile = tmp.path("ssl.pem");
  nodeExtra = tmp.path("extra.pem");
  pems.bundle = a.certPem;
  pems.ssl = b.certPem;
  pems.extra = c.certPem;
  await Promise.all([
    writeFile(bundle, a.certPem),
    writeFile(sslCertFile, b.certPem),
    writeFile(nodeExtra, c.certPem),
  ]);
});
afterAll(() => tmp?.remove());

describe("trustRootsFor", () => {
  it("is undefined when nothing is set, so Node's defaults apply", async () => {
    expect(await trustRootsFor({ env: {} })).toBeUndefined();
    expect(await trustRootsFor({ caBundle: "", env: { SSL_CERT_FILE: "", NODE_EXTRA_CA_CERTS: "" } })).toBe(
      undefined,
    );
  });

  it("adds --ca-bundle to Node's bundled roots", async () => {
    expect(await trustRootsFor({ caBundle: bundle, env: {} })).toEqual([...rootCertificates, pems.bundle]);
  });

  it("adds SSL_CERT_FILE and NODE_EXTRA_CA_CERTS (Node drops the latter once `ca` is given)", async () => {
    expect(await trustRootsFor({ env: { SSL_CERT_FILE: sslCertFile } })).toEqual([
      ...rootCertificates,
      pems.ssl,
    ]);
    expect(await trustRootsFor({ env: { NODE_EXTRA_CA_CERTS: nodeExtra } })).toEqual([
      ...rootCertificates,
      pems.extra,
    ]);
    const all = await trustRootsFor({
      caBundle: bundle,
      env: { SSL_CERT_FILE: sslCertFile, NODE_EXTRA_CA_CERTS: nodeExtra },
    });
    expect(all).toEqual([...rootCertificates, pems.bundle, pems.ssl, pems.extra]);
    expect(rootCertificates.length).toBeGreaterThan(50);
  });

  it("reads process.env by default", async () => {
    const saved = process.env.SSL_CERT_FILE;
    process.env.SSL_CERT_FILE = sslCertFile;
    try {
      // (The environment may also set NODE_EXTRA_CA_CERTS, which then comes last.)
      expect(await trustRootsFor({})).toContain(pems.ssl);
    } finally {
      if (saved === undefined) delete process.env.SSL_CERT_FILE;
      else process.env.SSL_CERT_FILE = saved;
    }
  });

  it.each([
    ["--ca-bundle", { caBundle: "MISSING" }],
    ["SSL_CERT_FILE", { env: { SSL_CERT_FILE: "MISSING" } }],
    ["NODE_EXTRA_CA_CERTS", { env: { NODE_EXTRA_CA_CERTS: "MISSING" } }],
  ])("names %s and the path when the file is missing", async (name, sources) => {
    const missing = tmp.path("no-such.pem");
    const withPath = JSON.parse(JSON.stringify(sources).replace("MISSING", missing));
    await expect(trustRootsFor({ env: {}, ...withPath })).rejects.toThrow(`${name} ${missing}: ENOENT`);
  });

  it("uses the injected reader", async () => {
    const read: string[] = [];
    const roots = await trustRootsFor({
      caBundle: "/x/bundle.pem",
      env: {},
      readFile: async (p) => {
        read.push(p);
        return "PEM";
      },
    });
    expect(read).toEqual(["/x/bundle.pem"]);
    expect(roots?.at(-1)).toBe("PEM");
  });
});
