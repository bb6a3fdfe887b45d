import { execFileSync } from "node:child_process";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { rootCertificates } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatedRootsPem } from "../testing/generated-roots.js";
import { recordingLogger } from "../testing/recording-logger.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { makeTlsCa } from "../testing/tls-fixtures.js";
import { pemCertificates } from "./pem-certificates.js";
import { certDirectoryFiles, MAX_CERT_FILE_BYTES, readRegularFileSync } from "./read-cert-files.js";
import { LINUX_ROOT_LOCATIONS, loadTrustRoots, type SystemRootLocations } from "./trust-roots.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
/** Certificates A to E, one per CA; `pem.X` is the PEM text, `file.X` a file holding only it. */
const NAMES = ["A", "B", "C", "D", "E"] as const;
const pem = {} as Record<(typeof NAMES)[number], string>;
const file = {} as Record<(typeof NAMES)[number], string>;
const NONE: SystemRootLocations = { files: [], dirs: [] };

beforeAll(async () => {
  tmp = await makeTempDir();
  const cas = await Promise.all(NAMES.map((n) => makeTlsCa(`Roots Test CA ${n}`)));
  for (const [i, name] of NAMES.entries()) {
    pem[name] = cas[i]?.certPem ?? "";
    file[name] = tmp.path(`${name}.pem`);
    await writeFile(file[name], pem[name]);
  }
});
afterAll(() => tmp?.remove());

/** The names (A to E) of the certificates in `ca`, in order; "?" for any other. */
const names = (ca: string[]) => ca.map((c) => NAMES.find((k) => pem[k] === c) ?? "?");

async function dirWith(name: string, files: Record<string, string>): Promise<string> {
  const dir = tmp.path(name);
  await mkdir(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) await writeFile(`${dir}/${f}`, text);
  return dir;
}

describe("loadTrustRoots: the system store, as Go's crypto/x509 on Linux", () => {
  it("reads Go's Linux lists by default (the lists of root_linux.go)", () => {
    expect(LINUX_ROOT_LOCATIONS.files[0]).toBe("/etc/ssl/certs/ca-certificates.crt");
    expect(LINUX_ROOT_LOCATIONS.files).toHaveLength(6);
    expect(LINUX_ROOT_LOCATIONS.dirs).toEqual(["/etc/ssl/certs", "/etc/pki/tls/certs"]);
  });

  it("reads the first bundle file that can be read, and only that one", () => {
    const system = { files: [tmp.path("missing.pem"), file.A, file.B], dirs: [] };
    const roots = loadTrustRoots({ env: {}, system });
    expect(names(roots.ca)).toEqual(["A"]);
    expect(roots.sources).toEqual([file.A]);
  });

  it("SSL_CERT_FILE replaces the file list", () => {
    const system = { files: [file.A], dirs: [] };
    expect(names(loadTrustRoots({ env: { SSL_CERT_FILE: file.B }, system }).ca)).toEqual(["B"]);
  });

  it("reads every file of the directories when no bundle is found (any name, hashed or not)", async () => {
    const dir = await dirWith("store", { "abcd1234.0": pem.A, "corp.pem": pem.B, README: "not a cert\n" });
    const roots = loadTrustRoots({ env: {}, system: { files: [tmp.path("missing.pem")], dirs: [dir] } });
    expect(names(roots.ca).sort()).toEqual(["A", "B"]);
    expect(roots.sources).toEqual([dir]);
  });

  it("SSL_CERT_DIR replaces the directories: colon-separated, missing ones skipped, read even with a bundle", async () => {
    const one = await dirWith("one", { "c.pem": pem.C });
    const two = await dirWith("two", { "d.crt": pem.D });
    const system = { files: [file.A], dirs: [await dirWith("system-dir", { "e.pem": pem.E })] };
    const roots = loadTrustRoots({ env: { SSL_CERT_DIR: `${one}:${tmp.path("nope")}::${two}` }, system });
    expect(names(roots.ca)).toEqual(["A", "C", "D"]);
    expect(roots.sources).toEqual([file.A, one, two]);
  });

  it("reads the directories when the bundle found holds no certificate", async () => {
    const empty = tmp.path("empty-bundle.pem");
    await writeFile(empty, "");
    const dir = await dirWith("after-empty", { "e.pem": pem.E });
    expect(names(loadTrustRoots({ env: {}, system: { files: [empty, file.A], dirs: [dir] } }).ca)).toEqual([
      "E",
    ]);
  });

  it("skips the system directories when a bundle was found (our one difference: they repeat the bundle)", async () => {
    const dir = await dirWith("extra-in-dir", { "e.pem": pem.E });
    expect(names(loadTrustRoots({ env: {}, system: { files: [file.A], dirs: [dir] } }).ca)).toEqual(["A"]);
  });

  it("an unreadable SSL_CERT_FILE does not fail: the directories are read instead, as Go does", async () => {
    const logger = recordingLogger();
    const dir = await dirWith("fallback", { "b.pem": pem.B });
    const roots = loadTrustRoots({
      env: { SSL_CERT_FILE: tmp.dir, SSL_CERT_DIR: dir },
      system: NONE,
      logger,
    });
    expect(names(roots.ca)).toEqual(["B"]);
    expect(logger.at("debug")).toEqual([
      `Trust roots: 1 from ${dir}; skipped ${tmp.dir} (not a regular file (it is a directory))`,
    ]);
  });

  it("skips subdirectories, dangling links and non-PEM files in a directory, as Go does", async () => {
    const dir = await dirWith("messy", { "a.pem": pem.A, "ca.der": "\x30\x82\x01\x00" });
    await mkdir(`${dir}/sub`);
    await writeFile(`${dir}/sub/b.pem`, pem.B);
    await symlink("/nonexistent/c.pem", `${dir}/dangling.pem`);
    expect(names(loadTrustRoots({ env: { SSL_CERT_DIR: dir }, system: NONE }).ca)).toEqual(["A"]);
  });

  it("falls back to Node's bundled roots when the system has none", () => {
    const logger = recordingLogger();
    const roots = loadTrustRoots({ env: { SSL_CERT_FILE: tmp.path("missing.pem") }, system: NONE, logger });
    expect(roots.ca).toHaveLength(rootCertificates.length);
    expect(roots.sources).toEqual(["Node's bundled roots"]);
    expect(logger.at("debug")).toEqual([
      `Trust roots: ${rootCertificates.length} from Node's bundled roots; skipped ${tmp.path("missing.pem")} (ENOENT: no such file or directory)`,
    ]);
  });

  it("takes each certificate once", async () => {
    const bundle = tmp.path("dup-bundle.pem");
    await writeFile(bundle, `${pem.A}\n${pem.B}\n${pem.A}`);
    const dir = await dirWith("dups", { "a.pem": pem.A, "b.pem": pem.B });
    const roots = loadTrustRoots({ env: { SSL_CERT_DIR: dir }, system: { files: [bundle], dirs: [] } });
    expect(names(roots.ca)).toEqual(["A", "B"]);
  });
});

describe("loadTrustRoots: our additions", () => {
  it("adds -ca-bundle, NODE_EXTRA_CA_CERTS and extraCaPems after the system's", () => {
    const roots = loadTrustRoots({
      caBundle: file.B,
      extraCaPems: [pem.D],
      env: { SSL_CERT_FILE: file.A, NODE_EXTRA_CA_CERTS: file.C },
      system: NONE,
    });
    expect(names(roots.ca)).toEqual(["A", "B", "C", "D"]);
    expect(roots.sources).toEqual([
      file.A,
      `-ca-bundle ${file.B}`,
      `NODE_EXTRA_CA_CERTS ${file.C}`,
      "extra roots",
    ]);
  });

  it("adds them to Node's bundled roots when the system has none", () => {
    const roots = loadTrustRoots({ caBundle: file.B, env: {}, system: NONE });
    expect(roots.ca).toEqual([...rootCertificates, pem.B]);
  });

  it.each([
    ["missing", "no-such.pem", "ENOENT"],
    ["a directory", "", "not a regular file \\(it is a directory\\)"],
  ])("fails naming -ca-bundle when the file is %s", (_what, name, reason) => {
    const path = tmp.path(name);
    expect(() => loadTrustRoots({ caBundle: path, env: {}, system: NONE })).toThrow(
      new RegExp(`^-ca-bundle ${path}: .*${reason}`),
    );
  });

  it("fails naming -ca-bundle when the file holds no certificate", async () => {
    const path = tmp.path("key-only.pem");
    await writeFile(path, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    expect(() => loadTrustRoots({ caBundle: path, env: {}, system: NONE })).toThrow(
      `-ca-bundle ${path}: no PEM CERTIFICATE block in the file`,
    );
  });

  it("skips an unreadable NODE_EXTRA_CA_CERTS, as Node does", () => {
    const logger = recordingLogger();
    const roots = loadTrustRoots({
      env: { SSL_CERT_FILE: file.A, NODE_EXTRA_CA_CERTS: tmp.dir },
      system: NONE,
      logger,
    });
    expect(names(roots.ca)).toEqual(["A"]);
    expect(logger.at("debug").join("\n")).toContain(
      `skipped NODE_EXTRA_CA_CERTS ${tmp.dir} (not a regular file (it is a directory))`,
    );
  });

  it("reads process.env by default", () => {
    const saved = process.env.SSL_CERT_FILE;
    process.env.SSL_CERT_FILE = file.E;
    try {
      expect(loadTrustRoots({ system: NONE }).ca).toContain(pem.E);
    } finally {
      if (saved === undefined) delete process.env.SSL_CERT_FILE;
      else process.env.SSL_CERT_FILE = saved;
    }
  });
});

describe("reading certificate files", () => {
  it("refuses a FIFO without blocking on it", async () => {
    const fifo = tmp.path("fifo.pem");
    execFileSync("mkfifo", [fifo]);
    expect(() => readRegularFileSync(fifo)).toThrow("not a regular file (it is a FIFO)");
    // In a directory it is skipped, and the run goes on.
    const dir = await dirWith("with-fifo", { "a.pem": pem.A });
    execFileSync("mkfifo", [`${dir}/fifo.pem`]);
    expect(names(loadTrustRoots({ env: { SSL_CERT_DIR: dir }, system: NONE }).ca)).toEqual(["A"]);
  });

  it("refuses files over the size limit", async () => {
    const big = tmp.path("big.pem");
    await writeFile(big, Buffer.alloc(1025, 0x41));
    expect(() => readRegularFileSync(big, 1024)).toThrow("file is larger than 1024 bytes");
    expect(readRegularFileSync(big, 1025)).toHaveLength(1025);
    expect(MAX_CERT_FILE_BYTES).toBe(128 << 20); // no real store comes near (10,000 roots: 5.5 MiB)
  });

  it("names each trust file or directory our limits left out, in a warning", async () => {
    const big = await dirWith("over-total", { "a.pem": pem.A, "b.pem": pem.B });
    const crowded = await dirWith("crowded", { "c.pem": pem.C, "d.pem": pem.D, "e.pem": pem.E });
    const tooBig = tmp.path("too-big.pem");
    await writeFile(tooBig, `${pem.A}${pem.B}`);
    const logger = recordingLogger();
    const limits = {
      fileBytes: pem.A.length + 10,
      totalBytes: Math.round(2.5 * pem.A.length),
      dirEntries: 2,
    };
    const crowdedOnly = loadTrustRoots({ env: { SSL_CERT_DIR: crowded }, system: NONE, limits, logger });
    expect(crowdedOnly.ca).toHaveLength(2);
    expect(crowdedOnly.skipped).toEqual([`${crowded} (read its first 2 entries only)`]);
    const roots = loadTrustRoots({
      env: { SSL_CERT_FILE: tooBig, SSL_CERT_DIR: `${big}:${crowded}` },
      system: NONE,
      limits,
      logger,
    });
    const overTotal = `(over the ${limits.totalBytes} bytes read from trust files in all)`;
    expect(roots.skipped).toEqual([
      `${tooBig} (file is larger than ${limits.fileBytes} bytes)`,
      expect.stringMatching(new RegExp(`^${crowded}/[cde]\\.pem \\${overTotal.slice(0, -1)}\\)$`)),
      expect.stringMatching(new RegExp(`^${crowded}/[cde]\\.pem \\${overTotal.slice(0, -1)}\\)$`)),
      `${crowded} (read its first 2 entries only)`,
    ]);
    expect(names(roots.ca).sort()).toEqual(["A", "B"]);
    expect(roots.limited).toBe(true);
    expect(logger.at("warning")).toHaveLength(2);
    expect(logger.at("warning")[1]).toMatch(
      /^Trust roots: \d+ from .*; skipped .*too-big\.pem \(file is larger than/,
    );
  });

  it("reads a bundle of 10,000 roots (5.5 MiB), which a 4 MiB cap once skipped", async () => {
    const file = tmp.path("ten-thousand.pem");
    await writeFile(file, generatedRootsPem(10_000) + pem.A);
    const roots = loadTrustRoots({ env: { SSL_CERT_FILE: file }, system: NONE });
    expect(roots.ca).toHaveLength(10_001);
    expect(roots.skipped).toEqual([]);
  });

  it("lists a directory without the links to names in the same directory (OpenSSL's hash links)", async () => {
    const dir = await dirWith("hashed", { "corp.pem": pem.A });
    await symlink("corp.pem", `${dir}/0123abcd.0`);
    await symlink(file.B, `${dir}/elsewhere.pem`);
    expect([...certDirectoryFiles(dir)].sort()).toEqual([`${dir}/corp.pem`, `${dir}/elsewhere.pem`]);
    expect([...certDirectoryFiles(dir, 1)]).toHaveLength(2); // one entry, then TOO_MANY_ENTRIES
  });

  it("takes CERTIFICATE blocks without headers only, as Go's AppendCertsFromPEM", () => {
    const a = pem.A;
    const withHeader = a.replace("-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n");
    const text = [
      "intro text",
      a,
      a.replace(/CERTIFICATE/g, "TRUSTED CERTIFICATE"),
      withHeader,
      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
      pem.B,
    ].join("\n");
    expect([...pemCertificates(Buffer.from(text))].map((c) => c.pem)).toEqual([a.trim(), pem.B.trim()]);
  });
});
