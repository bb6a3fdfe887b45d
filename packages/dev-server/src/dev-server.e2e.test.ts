import { mkdtemp, rm } from "node:fs/promises";
import { request as h1request } from "node:http";
import { connect as h2connect } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  createTokenMinterClient,
  decodeMachineToken,
  type MintTokenError,
  mintToken,
  outcomeFromError,
  PROTOCOLS,
  verifyMachineToken,
} from "@luci-machine-tokend/core";
import {
  ErrorCode,
  MachineTokenEnvelopeSchema,
  MachineTokenType,
  MintMachineTokenRequestSchema,
  SignatureAlgorithm,
} from "@luci-machine-tokend/core/gen";
import { errorMessage } from "@luci-machine-tokend/core/internal";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "./index.js";
import { createTestPki, type TestLeaf, type TestPki } from "./test-pki.js";
import { type SignedMintRequestOptions, signedMintRequest, testSigner } from "./testing/signed-request.js";

/**
 * The dev server end to end: what a LUCI client sees over every protocol, each validation branch
 * of reference §7 with real signed requests, the pRPC protocol errors, faults, the published
 * certificate, shutdown with open connections, and the command line.
 */

let pki: TestPki;
let server: DevServer;
let now = new Date();
let dir: string;

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-1.example.com" });
  dir = await mkdtemp(join(tmpdir(), "dev-server-e2e-"));
  server = await startDevServer({
    caCertificates: [pki.caCertPem],
    domains: [
      { domain: "example.com", lifetimeMs: 3_600_000 },
      { domain: "forbidden.test", lifetimeMs: 0 },
    ],
    revokedSerials: [pki.revoked.serial],
    now: () => now,
    serviceVersion: "dev-tests/v1",
  });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  now = new Date();
  server.faults.clear();
  server.requests.length = 0;
});

const signerFor = testSigner;

/** Mints through core's mintToken over a protocol; returns the token or the outcome string. */
async function mintWith(leaf: TestLeaf, protocol: (typeof PROTOCOLS)[number] = "prpc", timeoutMs = 5_000) {
  const backend = protocol === "grpc" ? (server.grpcBackend ?? "") : server.backend;
  try {
    const minted = await mintToken({
      client: createTokenMinterClient(backend, { protocol }),
      signer: signerFor(leaf),
      timeoutMs,
      jitter: false,
    });
    return { minted };
  } catch (err) {
    return { outcome: outcomeFromError(err), message: errorMessage(err), err: err as MintTokenError };
  }
}

/** A hand-built request, signed by the leaf's key, with any inner field overridden. */
function handBuilt(
  leaf: TestLeaf,
  inner: SignedMintRequestOptions["inner"] = {},
  opts: { badSignature?: boolean } = {},
) {
  return signedMintRequest(leaf, { now, inner, ...opts });
}

/** Sends raw bytes to the pRPC endpoint: the independent client of reference §3. */
async function prpc(
  body: Uint8Array | string,
  headers: Record<string, string> = {},
  path = "/prpc/tokenserver.minter.TokenMinter/MintMachineToken",
) {
  const res = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/prpc; encoding=binary",
      Accept: "application/prpc; encoding=binary",
      ...headers,
    },
    body: typeof body === "string" ? body : body.slice(),
  });
  return {
    status: res.status,
    headers: res.headers,
    body: new Uint8Array(await res.arrayBuffer()),
    text: "",
  };
}

describe("every protocol mints a token the published certificate verifies", () => {
  for (const protocol of PROTOCOLS) {
    it(protocol, async () => {
      const { minted, message } = await mintWith(pki.leaf, protocol);
      expect(message).toBeUndefined();
      const published = await fetch(`${server.url}/auth/api/v1/server/certificates`);
      expect(published.headers.get("content-type")).toBe("application/json");
      const certs = await published.json();
      const token = await verifyMachineToken(minted?.token ?? "", { certificates: certs, now: new Date() });
      expect(token.body).toMatchObject({
        machineFqdn: "bot-1.example.com",
        issuedBy: "dev-token-server@example.com",
        lifetime: 3600n,
        caId: 1n,
      });
      expect(token.certSerialHex).toBe(pki.leaf.serial.toString(16));
      expect(minted?.serviceVersion).toBe("dev-tests/v1");
      expect(minted?.expiry.getTime()).toBe(Number(token.body.issuedAt + 3600n) * 1000);
      expect(minted?.token).toMatch(/^[A-Za-z0-9+/]+$/); // unpadded standard base64
      expect(server.requests.map((r) => r.protocol)).toEqual([protocol]);
      // The same token with one bit of its signature flipped (the base64 text of the last bytes
      // may decode to the same signature; the decoded bytes cannot).
      const envelope = fromBinary(MachineTokenEnvelopeSchema, Buffer.from(minted?.token ?? "", "base64"));
      envelope.rsaSha256[0] = (envelope.rsaSha256[0] ?? 0) ^ 0x01;
      const tampered = Buffer.from(toBinary(MachineTokenEnvelopeSchema, envelope)).toString("base64");
      await expect(
        verifyMachineToken(tampered.replace(/=+$/, ""), { certificates: certs, now: new Date() }),
      ).rejects.toThrow(/^bad token signature$/);
    });
  }
});

describe("validation in LUCI's order, with LUCI's messages", () => {
  const logicError = async (request: ReturnType<typeof handBuilt>) => {
    const client = createTokenMinterClient(server.backend);
    const answer = await client.mintMachineToken(request);
    return [answer.errorCode, answer.errorMessage, answer.serviceVersion];
  };

  it("refuses an empty request (gRPC 3) and an undecodable inner request", async () => {
    const empty = await prpc(
      toBinary(MintMachineTokenRequestSchema, create(MintMachineTokenRequestSchema, {})),
    );
    expect([
      empty.status,
      empty.headers.get("x-prpc-grpc-code"),
      new TextDecoder().decode(empty.body),
    ]).toEqual([400, "3", "empty request\n"]);
    const junk = await prpc(
      toBinary(
        MintMachineTokenRequestSchema,
        create(MintMachineTokenRequestSchema, { serializedTokenRequest: new Uint8Array([0xff, 0xff]) }),
      ),
    );
    expect(junk.headers.get("x-prpc-grpc-code")).toBe("3");
    expect(new TextDecoder().decode(junk.body)).toMatch(/^failed to unmarshal TokenRequest - /);
  });

  it("token type, timestamp (±10 min inclusive), certificate format, algorithm, signature", async () => {
    expect(await logicError(handBuilt(pki.leaf, { tokenType: MachineTokenType.UNKNOWN_TYPE }))).toEqual([
      ErrorCode.UNSUPPORTED_TOKEN_TYPE,
      "token_type UNKNOWN_TYPE is not supported",
      "dev-tests/v1",
    ]);
    const late = new Date(now.getTime() - 10 * 60_000 - 1000);
    expect((await logicError(handBuilt(pki.leaf, { issuedAt: timestampFromDate(late) })))[0]).toBe(
      ErrorCode.BAD_TIMESTAMP,
    );
    expect(
      (
        await logicError(
          handBuilt(pki.leaf, { issuedAt: timestampFromDate(new Date(now.getTime() + 11 * 60_000)) }),
        )
      )[1],
    ).toBe("issued_at timestamp is not within acceptable range, check your clock");
    const edge = new Date(Math.floor(now.getTime() / 1000) * 1000 - 10 * 60_000 + 1000);
    expect((await logicError(handBuilt(pki.leaf, { issuedAt: timestampFromDate(edge) })))[0]).toBe(
      ErrorCode.SUCCESS,
    );
    expect(await logicError(handBuilt(pki.leaf, { certificate: new Uint8Array([1, 2, 3]) }))).toEqual([
      ErrorCode.BAD_CERTIFICATE_FORMAT,
      "failed to parse the certificate (expecting x509 cert DER)",
      "dev-tests/v1",
    ]);
    expect(
      await logicError(handBuilt(pki.leaf, { signatureAlgorithm: SignatureAlgorithm.UNKNOWN_ALGO })),
    ).toEqual([
      ErrorCode.UNSUPPORTED_SIGNATURE,
      "signature_algorithm UNKNOWN_ALGO is not supported",
      "dev-tests/v1",
    ]);
    const [code, message] = await logicError(handBuilt(pki.leaf, {}, { badSignature: true }));
    expect(code).toBe(ErrorCode.BAD_SIGNATURE);
    expect(message).toMatch(/^signature verification failed - /);
  });

  it("untrusted certificates all get the same generic answer", async () => {
    const impostor = await pki.issue({ signedBy: "impostor-ca" });
    const notYet = await pki.issue({ notBefore: new Date(now.getTime() + 86_400_000) });
    for (const leaf of [pki.untrusted, impostor, pki.expired, notYet, pki.revoked]) {
      const { outcome, message } = await mintWith(leaf);
      expect(outcome).toBe("MINT_TOKEN_ERROR_UNTRUSTED_CERTIFICATE");
      expect(message).toBe("token server error UNTRUSTED_CERTIFICATE - invalid or untrusted certificate");
    }
  });

  it("token arguments: FQDN, domain, lifetime, serial; the CN + SAN rule", async () => {
    expect((await mintWith(pki.dotless)).message).toBe(
      'token server error BAD_TOKEN_ARGUMENTS - not a valid FQDN "bot-1"',
    );
    const unlisted = await pki.issue({ commonName: "bot-9.other.org" });
    expect((await mintWith(unlisted)).message).toBe(
      'token server error BAD_TOKEN_ARGUMENTS - the domain "other.org" is not listed in the config',
    );
    const forbidden = await pki.issue({ commonName: "bot-9.forbidden.test" });
    expect((await mintWith(forbidden)).message).toBe(
      'token server error BAD_TOKEN_ARGUMENTS - machine tokens for machines in domain "forbidden.test" are not allowed',
    );
    const zero = await pki.issue({ serial: 0n });
    expect((await mintWith(zero)).message).toBe(
      "token server error BAD_TOKEN_ARGUMENTS - invalid certificate serial number: 0",
    );
    const sanRule = await pki.issue({
      commonName: "bot-7",
      dnsNames: ["other.example.com", "bot-7.bots.example.com"],
    });
    const { minted } = await mintWith(sanRule);
    expect((await decodeMachineToken(minted?.token ?? "")).body.machineFqdn).toBe("bot-7.bots.example.com");
  });
});

describe("pRPC protocol details (reference §3.6, §3.7)", () => {
  it("answers binary with Go's headers, and JSON with the XSSI prefix and lowerCamelCase", async () => {
    const request = handBuilt(pki.leaf);
    const bin = await prpc(toBinary(MintMachineTokenRequestSchema, request));
    expect(bin.status).toBe(200);
    expect(bin.headers.get("x-prpc-grpc-code")).toBe("0");
    expect(bin.headers.get("content-type")).toBe("application/prpc; encoding=binary");
    expect(bin.headers.get("x-content-type-options")).toBe("nosniff");
    const json = await prpc(toJsonString(MintMachineTokenRequestSchema, request), {
      "Content-Type": "application/json",
      Accept: "application/json",
    });
    const text = new TextDecoder().decode(json.body);
    expect(text.startsWith(")]}'\n")).toBe(true);
    const parsed = JSON.parse(text.slice(5));
    expect(parsed.tokenResponse.luciMachineToken.machineToken).toMatch(/^[A-Za-z0-9+/]+$/);
    expect(parsed.serviceVersion).toBe("dev-tests/v1");
    const error = await prpc(toJsonString(MintMachineTokenRequestSchema, handBuilt(pki.dotless)), {
      "Content-Type": "application/json",
      Accept: "application/json",
    });
    expect(JSON.parse(new TextDecoder().decode(error.body).slice(5)).errorCode).toBe("BAD_TOKEN_ARGUMENTS");
  });

  it("415, 406, 400 protocol errors; unknown methods are 12/501 with the masked text; GET is 405", async () => {
    const body = toBinary(MintMachineTokenRequestSchema, handBuilt(pki.leaf));
    const r415 = await prpc(body, { "Content-Type": "image/png" });
    expect([r415.status, r415.headers.get("x-prpc-grpc-code")]).toEqual([415, "3"]);
    const r406 = await prpc(body, { Accept: "image/png" });
    expect([r406.status, r406.headers.get("x-prpc-grpc-code")]).toEqual([406, "3"]);
    const timeout = await prpc(body, { "X-Prpc-Grpc-Timeout": "soon" });
    expect([
      timeout.status,
      new TextDecoder().decode(timeout.body).startsWith("bad request headers: "),
    ]).toEqual([400, true]);
    const undecodable = await prpc(new Uint8Array([0xff, 0xff, 0xff]));
    expect([
      undecodable.status,
      new TextDecoder().decode(undecodable.body).startsWith("could not decode body: "),
    ]).toEqual([400, true]);
    const unknown = await prpc(body, {}, "/prpc/tokenserver.minter.TokenMinter/MintOAuthToken");
    expect([
      unknown.status,
      unknown.headers.get("x-prpc-grpc-code"),
      new TextDecoder().decode(unknown.body),
    ]).toEqual([501, "12", "API method not implemented by the server\n"]);
    expect((await fetch(`${server.url}/prpc/tokenserver.minter.TokenMinter/MintMachineToken`)).status).toBe(
      405,
    );
  });

  it("masks service errors mapped to HTTP ≥ 500 and keeps the others", async () => {
    server.faults.set({ grpcError: { code: 13, message: "secret detail", times: 1 } });
    const masked = await prpc(toBinary(MintMachineTokenRequestSchema, handBuilt(pki.leaf)));
    expect([masked.status, new TextDecoder().decode(masked.body)]).toEqual([500, "Internal server error\n"]);
    server.faults.set({ grpcError: { code: 7, message: "go away", times: 1 } });
    const kept = await prpc(toBinary(MintMachineTokenRequestSchema, handBuilt(pki.leaf)));
    expect([kept.status, new TextDecoder().decode(kept.body)]).toEqual([403, "go away\n"]);
  });
});

describe("faults", () => {
  it("fails the next N calls, then serves again (a client retries through it)", async () => {
    server.faults.set({ grpcError: { code: 14, times: 2 } });
    const { minted } = await mintWith(pki.leaf);
    expect(minted?.attempts).toBe(3);
  });

  it("proxy pages, resets, truncation, oversized bodies and wrong content types reach the client as transport failures", async () => {
    server.faults.set({ httpFault: { kind: "proxy-html", status: 502 } });
    const page = await prpc(toBinary(MintMachineTokenRequestSchema, handBuilt(pki.leaf)));
    expect([page.status, page.headers.get("x-prpc-grpc-code"), new TextDecoder().decode(page.body)]).toEqual([
      502,
      null,
      expect.stringContaining("<html"),
    ]);
    server.faults.set({ httpFault: { kind: "oversize", times: 1 } });
    const oversize = await mintWith(pki.leaf);
    expect([oversize.outcome, oversize.err?.grpcCode]).toEqual(["UNKNOWN_RPC_ERROR", 14]);
    server.faults.set({ httpFault: { kind: "wrong-content-type", times: 1 } });
    const wrongType = await mintWith(pki.leaf); // not retried, as Go
    expect([wrongType.outcome, wrongType.err?.grpcCode]).toEqual(["UNKNOWN_RPC_ERROR", 13]);
    for (const kind of ["reset", "truncate"] as const) {
      server.faults.clear();
      server.faults.set({ httpFault: { kind, times: 1 } });
      const { minted } = await mintWith(pki.leaf);
      expect(minted?.attempts).toBe(2); // the first call broke, the retry got a token
    }
  });

  it("a chosen LUCI error code, a clock offset, a short lifetime, added latency", async () => {
    server.faults.set({ errorCode: { code: ErrorCode.MACHINE_TOKEN_MINTING_ERROR, times: 1 } });
    expect((await mintWith(pki.leaf)).outcome).toBe("MINT_TOKEN_ERROR_MACHINE_TOKEN_MINTING_ERROR");
    server.faults.set({ clockOffsetMs: 11 * 60_000 });
    expect((await mintWith(pki.leaf)).outcome).toBe("MINT_TOKEN_ERROR_BAD_TIMESTAMP");
    server.faults.clear();
    server.faults.set({ tokenLifetimeMs: 90_000 });
    expect((await decodeMachineToken((await mintWith(pki.leaf)).minted?.token ?? "")).body.lifetime).toBe(
      90n,
    );
    server.faults.clear();
    server.faults.set({ latencyMs: 300 });
    const started = performance.now();
    await mintWith(pki.leaf);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    server.faults.set({ latencyMs: 10_000 });
    expect((await mintWith(pki.leaf, "prpc", 500)).outcome).toBe("GRPC_ERROR_4");
  });
});

describe("lifecycle", () => {
  it("closes promptly with open keep-alive and HTTP/2 connections", async () => {
    const other = await startDevServer({
      caCertificates: [pki.caCertPem],
      domains: [{ domain: "example.com", lifetimeMs: 3_600_000 }],
      signingKeyPem: server.signingKeyPem,
    });
    const agent = new (await import("node:http")).Agent({ keepAlive: true });
    await new Promise<void>((resolve) => {
      h1request(`${other.url}/auth/api/v1/server/certificates`, { agent }, (res) => {
        res.resume();
        res.on("end", resolve);
      }).end();
    });
    const session = h2connect(other.grpcUrl ?? "");
    await new Promise<void>((resolve) => session.once("connect", () => resolve()));
    const started = performance.now();
    await other.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    agent.destroy();
    session.destroy();
  });
});
