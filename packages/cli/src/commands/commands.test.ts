import { execFileSync } from "node:child_process";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { readFile, stat, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { MachineTokenBodySchema, MachineTokenEnvelopeSchema } from "@luci-machine-tokend/core/gen";
import { escapeForLog } from "@luci-machine-tokend/core/internal";
import { createTestPki, type TestPki } from "@luci-machine-tokend/dev-server";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { main } from "../main.js";
import { createTokendFixture, type TokendFixture } from "../testing/tokend-fixture.js";

const NOW = new Date(1700000000_000);
let pki: TestPki;
let fx: TokendFixture;

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-1.example.com", now: NOW });
});
beforeEach(async () => {
  fx = await createTokendFixture(pki);
});
afterEach(() => fx.cleanup());

async function cli(argv: string[], now = NOW) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    deps: { now: () => now },
  });
  return { code, stdout, stderr };
}

/** The promise's value, or "hung" after 3 s (reading a FIFO waits for a writer forever). */
async function orHung<T>(promise: Promise<T>): Promise<T | "hung"> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<"hung">((resolve) => {
    timer = setTimeout(resolve, 3000, "hung");
  });
  try {
    return await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** A machine token like the token server's (unsigned signature bytes: inspect does not verify). */
function machineToken(
  issuedAt: number,
  lifetime: number,
  names = { machineFqdn: "bot-1.example.com", issuedBy: "token-server@example.com" },
): string {
  const body = create(MachineTokenBodySchema, {
    ...names,
    issuedAt: BigInt(issuedAt),
    lifetime: BigInt(lifetime),
    caId: 7n,
    certSn: new Uint8Array([0x10, 0x00]),
  });
  const envelope = create(MachineTokenEnvelopeSchema, {
    tokenBody: toBinary(MachineTokenBodySchema, body),
    keyId: "key-1",
    rsaSha256: new Uint8Array([1, 2, 3]),
  });
  return Buffer.from(toBinary(MachineTokenEnvelopeSchema, envelope)).toString("base64").replace(/=+$/, "");
}

async function writeToken(issuedAt: number, lifetime: number) {
  const token = machineToken(issuedAt, lifetime);
  await writeFile(
    fx.tokenPath,
    JSON.stringify({
      luci_machine_token: token,
      expiry: String(issuedAt + lifetime),
      last_update: String(issuedAt),
      next_update: String(issuedAt + lifetime / 2),
    }),
  );
}

describe("inspect", () => {
  it("decodes the token and exits 0 while it is unexpired", async () => {
    await writeToken(1700000000 - 600, 3600);
    await writeFile(
      fx.statusPath,
      JSON.stringify({
        update_outcome: "UPDATE_SUCCESS",
        update_reason: "NEW_TOKEN",
        started_ts: 1699999400,
      }),
    );
    const r = await cli(["inspect", "-token-file", fx.tokenPath, "-status-file", fx.statusPath, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      token_file: fx.tokenPath,
      valid: true,
      machine_fqdn: "bot-1.example.com",
      issued_by: "token-server@example.com",
      issued_at: "2023-11-14T22:03:20.000Z",
      lifetime_s: 3600,
      ca_id: "7",
      cert_serial: "1000",
      key_id: "key-1",
      expiry: "2023-11-14T23:03:20.000Z",
      next_update: "2023-11-14T22:33:20.000Z",
      last_update: "2023-11-14T22:03:20.000Z",
      seconds_left: 3000,
      last_status: { outcome: "UPDATE_SUCCESS", reason: "NEW_TOKEN", started: "2023-11-14T22:03:20.000Z" },
    });
    const text = await cli(["inspect", "-token-file", fx.tokenPath]);
    expect(text.stdout).toContain("machine:     bot-1.example.com\n");
    expect(text.stdout).toContain("expires:     2023-11-14T23:03:20.000Z (in 50m0s)\n");
  });

  it("exits 1 for an expired, missing or undecodable token", async () => {
    await writeToken(1700000000 - 7200, 3600);
    const expired = await cli(["inspect", "-token-file", fx.tokenPath, "--json"]);
    expect([expired.code, JSON.parse(expired.stdout).problem]).toEqual([1, "the token has expired"]);
    const missing = await cli(["inspect", "-token-file", fx.path("none.json")]);
    expect(missing.code).toBe(1);
    await writeFile(
      fx.tokenPath,
      JSON.stringify({ luci_machine_token: "not-a-token", expiry: "1800000000" }),
    );
    const junk = await cli(["inspect", "-token-file", fx.tokenPath, "--json"]);
    expect(junk.code).toBe(1);
    expect(JSON.parse(junk.stdout).problem).toMatch(/^not a machine token/);
  });

  it("shows text from the token and the status file as escaped single lines", async () => {
    const forged = "\n[I2026-01-01T00:00:00.000000Z 1 0 tokend] The token was updated\u001b[2J\u202e";
    const token = machineToken(1700000000 - 600, 3600, {
      machineFqdn: `bot-1.example.com${forged}`,
      issuedBy: `x\u009b31m@example.com`,
    });
    // An expiry no date can hold: the Go binary writes such a file for an int64-max expiry.
    await writeFile(
      fx.tokenPath,
      JSON.stringify({ luci_machine_token: token, expiry: "9223372036854775807" }),
    );
    await writeFile(
      fx.statusPath,
      JSON.stringify({ update_outcome: "GRPC_ERROR_7", failure_error: `denied${forged}` }),
    );
    const json = await cli(["inspect", "-token-file", fx.tokenPath, "-status-file", fx.statusPath, "--json"]);
    const escaped = "\\n[I2026-01-01T00:00:00.000000Z 1 0 tokend] The token was updated\\x1b[2J\\u202e";
    expect(JSON.parse(json.stdout)).toMatchObject({
      machine_fqdn: `bot-1.example.com${escaped}`,
      issued_by: "x\\x9b31m@example.com",
      expiry: "9223372036854775807 s since 1970",
      last_status: { outcome: "GRPC_ERROR_7", failure_error: `denied${escaped}` },
    });
    const text = await cli(["inspect", "-token-file", fx.tokenPath, "-status-file", fx.statusPath]);
    expect(text.stdout).toContain(`machine:     bot-1.example.com${escaped}\n`);
    expect(text.stdout).toContain(`last error:  denied${escaped}\n`);
    expect(text.stdout).toContain("expires:     9223372036854775807 s since 1970 (beyond any date)\n");
    expect(escapeForLog(text.stdout.replaceAll("\n", " "))).toBe(text.stdout.replaceAll("\n", " "));
    // Parse errors of the token file never quote it (a key may be part of a secret).
    await writeFile(fx.tokenPath, JSON.stringify({ [`k${forged}`]: "v" }));
    const junk = await cli(["inspect", "-token-file", fx.tokenPath, "--json"]);
    expect(JSON.parse(junk.stdout).problem).toMatch(/ - unknown field at line 1$/);
  });

  it("never quotes what it read, and reads no FIFO (it used to hang), also as the status file", async () => {
    await writeFile(
      fx.tokenPath,
      '{\n"luci_machine_token": "t",\n"root_only_secret_key_name_x": 31415926535897\n}',
    );
    await writeFile(fx.path("shadow"), "root:$6$SECRETHASH:19000:0:99999:7:::\n");
    await symlink(fx.path("shadow"), fx.path("status-link.json"));
    const json = await cli([
      "inspect",
      "-token-file",
      fx.tokenPath,
      "-status-file",
      fx.path("status-link.json"),
      "--json",
    ]);
    const report = JSON.parse(json.stdout);
    expect(report.problem).toMatch(/ - unknown field at line 3$/);
    expect(report.last_status).toEqual({ failure_error: "cannot read the status file: not valid JSON" });
    expect(json.stdout).not.toMatch(/SECRET|31415|root_only/);
    execFileSync("mkfifo", [fx.path("fifo")]);
    const r = await orHung(
      cli(["inspect", "-token-file", fx.path("fifo"), "-status-file", fx.path("fifo"), "--json"]),
    );
    if (r === "hung") expect.unreachable("inspect hung on a FIFO");
    const fifoReport = JSON.parse(r.stdout);
    expect(fifoReport.problem).toMatch(/not a regular file \(it is a FIFO\)$/);
    expect(fifoReport.last_status.failure_error).toMatch(
      /^cannot read the status file: .*not a regular file \(it is a FIFO\)$/,
    );
  });

  it("exits 2 with the usage for a bad flag, 0 for --help", async () => {
    const bad = await cli(["inspect", "-nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown argument: nope/);
    const help = await cli(["inspect", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("-token-file P");
  });

  it("speaks English whatever LANG says (the bundle ships no yargs locale files)", async () => {
    const saved = { LANG: process.env.LANG, LC_ALL: process.env.LC_ALL };
    Object.assign(process.env, { LANG: "de_DE.UTF-8", LC_ALL: "de_DE.UTF-8" });
    try {
      expect((await cli(["inspect", "-nope"])).stderr).toMatch(/^Unknown argument: nope\n/);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

describe("csr", () => {
  it("writes a PKCS#1 key with mode 0600 and a CSR with CN and SAN = the FQDN, and refuses to overwrite", async () => {
    const key = fx.path("new-key.pem");
    const csr = fx.path("new.csr");
    const r = await cli(["csr", "--fqdn", "Bot-7.Example.com", "--key-out", key, "--csr-out", csr]);
    expect(r.code).toBe(0);
    expect((await stat(key)).mode & 0o777).toBe(0o600);
    const keyPem = await readFile(key, "utf8");
    expect(keyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    const request = new x509.Pkcs10CertificateRequest(await readFile(csr, "utf8"));
    expect(request.subject).toBe("CN=bot-7.example.com");
    const sanExtension = request.getExtension("2.5.29.17");
    expect(sanExtension).not.toBeNull();
    const san = new x509.SubjectAlternativeNameExtension(sanExtension?.rawData ?? new ArrayBuffer(0));
    expect(san.names.toJSON()).toEqual([{ type: "dns", value: "bot-7.example.com" }]);
    expect(await request.verify()).toBe(true);
    // The CSR's public key is the written key's.
    const spki = createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
    expect(Buffer.from(request.publicKey.rawData).equals(spki)).toBe(true);

    const again = await cli([
      "csr",
      "--fqdn",
      "bot-7.example.com",
      "--key-out",
      key,
      "--csr-out",
      fx.path("other.csr"),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`csr: ${key} already exists; refusing to overwrite it\n`);
    expect(await readFile(key, "utf8")).toBe(keyPem);
  });

  it("refuses a name without a domain", async () => {
    const r = await cli(["csr", "--fqdn", "bot", "--key-out", fx.path("k"), "--csr-out", fx.path("c")]);
    expect(r.code).toBe(2);
  });
});

describe("check", () => {
  let server: Server;
  let port = 0;
  let dateHeader: string | undefined;
  let answerPrpc = true;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const headers: Record<string, string> = { "Content-Type": "text/plain" };
        if (answerPrpc) headers["X-Prpc-Grpc-Code"] = "3";
        res.sendDate = false;
        if (dateHeader) headers.Date = dateHeader;
        res.writeHead(answerPrpc ? 400 : 502, headers).end("empty request\n");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("passes a good setup, line by line", async () => {
    dateHeader = new Date(NOW.getTime() + 5_000).toUTCString();
    answerPrpc = true;
    const r = await cli([
      "check",
      "-backend",
      `127.0.0.1:${port}`,
      "-cert-pem",
      fx.certPath,
      "-pkey-pem",
      fx.keyPath,
      "-token-file",
      fx.tokenPath,
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.map((l) => l.split(":")[0])).toEqual([
      "PASS key and certificate",
      "PASS certificate validity",
      "PASS machine identity",
      "INFO certificate issuer",
      "PASS token directory",
      "PASS backend",
      "PASS clock",
    ]);
    expect(r.stdout).toContain("the token server will see bot-1.example.com (domain example.com)");
    expect(r.stdout).toContain("this machine is 5s behind the server");
  });

  it("fails with fix hints: wrong key, non-pRPC backend, clock far off", async () => {
    const other = await createTestPki({ fqdn: "bot-2.example.com", now: NOW });
    await writeFile(fx.keyPath, other.keyPem);
    dateHeader = new Date(NOW.getTime() - 11 * 60_000).toUTCString();
    answerPrpc = false;
    const r = await cli([
      "check",
      "-backend",
      `127.0.0.1:${port}`,
      "-cert-pem",
      fx.certPath,
      "-pkey-pem",
      fx.keyPath,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL key and certificate: .*doesn't match the private key.* \(fix: /m);
    expect(r.stdout).toMatch(/^FAIL backend: 127\.0\.0\.1:\d+ answered HTTP 502 without pRPC headers/m);
    expect(r.stdout).toMatch(/^FAIL clock: this machine is 11m0s ahead of the server \(fix: sync the clock/m);
  });

  it("reads the certificate and passphrase like a run: a FIFO is one FAIL line, not a hang", async () => {
    execFileSync("mkfifo", [fx.path("fifo")]);
    const args = ["check", "-backend", "127.0.0.1:1", "-pkey-pem", fx.keyPath, "-pkey-passphrase-file"];
    const r = await orHung(cli([...args, fx.path("fifo"), "-cert-pem", fx.path("fifo")]));
    if (r === "hung") expect.unreachable("check hung on a FIFO");
    const { stdout, code } = r;
    expect(code).toBe(1);
    expect(stdout).toContain(
      `FAIL key and certificate: -pkey-passphrase-file ${fx.path("fifo")}: not a regular file (it is a FIFO) (fix: `,
    );
    expect(stdout).toContain(`FAIL certificate: ${fx.path("fifo")}: not a regular file (it is a FIFO)`);
  });

  it("fails for an expired certificate and a dot-less name", async () => {
    await writeFile(fx.certPath, pki.dotless.certPem);
    const r = await cli([
      "check",
      "-backend",
      "127.0.0.1:1",
      "-cert-pem",
      fx.certPath,
      "-pkey-pem",
      fx.keyPath,
    ]);
    expect(r.stdout).toMatch(/^FAIL machine identity: not a valid FQDN "bot-1"/m);
    await writeFile(fx.certPath, pki.expired.certPem);
    const e = await cli([
      "check",
      "-backend",
      "127.0.0.1:1",
      "-cert-pem",
      fx.certPath,
      "-pkey-pem",
      fx.keyPath,
    ]);
    expect(e.stdout).toMatch(/^FAIL certificate validity: expired at /m);
    expect(e.stdout).toMatch(/^FAIL backend: 127\.0\.0\.1:1: .*ECONNREFUSED/m);
    expect(e.code).toBe(1);
  });
});
