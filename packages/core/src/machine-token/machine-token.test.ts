import { sign } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import { MachineTokenBodySchema, MachineTokenEnvelopeSchema } from "../gen/tokenserver/machine_token_pb.js";
import { makeTestPki, type TestIdentity } from "../testing/pki.js";
import { GOLDEN_TOKEN } from "../testing/vectors.js";
import { decodeMachineToken, MachineTokenFormatError } from "./decode-machine-token.js";
import { parseMachineToken } from "./machine-token.js";
import {
  MachineTokenVerifyError,
  type SigningCertificates,
  verifyMachineToken,
} from "./verify-machine-token.js";

describe("parseMachineToken", () => {
  it("decodes the upstream golden token (§2.11 C)", () => {
    const decoded = parseMachineToken(GOLDEN_TOKEN);
    expect(decoded.body.machineFqdn).toBe("host.domain");
    expect(decoded.body.issuedBy).toBe("token-server@example.com");
    expect(decoded.body.issuedAt).toBe(1422936306n);
    expect(decoded.body.lifetime).toBe(3600n);
    expect(decoded.body.caId).toBe(0n);
    expect(decoded.certSerialHex).toBe("3039");
    expect(decoded.keyId).toBe("key_id");
    expect(Buffer.from(decoded.signature).toString()).toBe("signature");
    expect(decoded.issuedAt).toEqual(new Date(1422936306_000));
    expect(decoded.expiresAt).toEqual(new Date(1422939906_000));
    expect(decoded.bodyBytes.length).toBe(52);
  });

  it.each([
    ["not base64", "not a token!"],
    ["url-safe alphabet", GOLDEN_TOKEN.replace(/.$/, "_")],
    ["empty", ""],
    ["not an envelope", Buffer.from("garbage bytes here").toString("base64")],
  ])("refuses %s", (_name, token) => {
    expect(() => parseMachineToken(token)).toThrow(MachineTokenFormatError);
  });

  it("is what decodeMachineToken resolves to, and rejects with", async () => {
    expect(await decodeMachineToken(GOLDEN_TOKEN)).toEqual(parseMachineToken(GOLDEN_TOKEN));
    await expect(decodeMachineToken("not a token!")).rejects.toThrow(MachineTokenFormatError);
  });
});

describe("verifyMachineToken", () => {
  let server: TestIdentity;
  let other: TestIdentity;
  beforeAll(async () => {
    ({ leaf: server, other } = await makeTestPki());
  });

  /** A token for host.example.com issued at `issuedAt` (s) for 1 h, signed by `signer`. */
  function token(issuedAt: number, signer: TestIdentity, keyId = "k1"): string {
    const body = toBinary(
      MachineTokenBodySchema,
      create(MachineTokenBodySchema, {
        machineFqdn: "host.example.com",
        issuedBy: "ts@example.com",
        issuedAt: BigInt(issuedAt),
        lifetime: 3600n,
        caId: 1n,
        certSn: new Uint8Array([0x10, 0x00]),
      }),
    );
    const envelope = create(MachineTokenEnvelopeSchema, {
      tokenBody: body,
      keyId,
      rsaSha256: new Uint8Array(sign("sha256", body, signer.privateKey)),
    });
    return Buffer.from(toBinary(MachineTokenEnvelopeSchema, envelope)).toString("base64").replace(/=+$/, "");
  }

  const certificates = () => ({ k1: server.certPem });
  const T = 1_700_000_000;

  it("accepts a token inside its window signed by the named key", async () => {
    const decoded = await verifyMachineToken(token(T, server), {
      certificates: certificates(),
      now: new Date(T * 1000),
    });
    expect(decoded.body.machineFqdn).toBe("host.example.com");
    expect(decoded.certSerialHex).toBe("1000");
  });

  it("accepts the published certificates list shape", async () => {
    const list = { certificates: [{ key_name: "k1", x509_certificate_pem: server.certPem }] };
    await expect(
      verifyMachineToken(token(T, server), { certificates: list, now: new Date(T * 1000) }),
    ).resolves.toBeDefined();
  });

  it("allows 10 s of skew at both ends and no more", async () => {
    const t = token(T, server);
    const at = (s: number) => verifyMachineToken(t, { certificates: certificates(), now: new Date(s) });
    await expect(at((T - 10) * 1000)).resolves.toBeDefined();
    await expect(at((T - 10) * 1000 - 1)).rejects.toThrow(/not valid yet/);
    await expect(at((T + 3600 + 10) * 1000)).resolves.toBeDefined();
    await expect(at((T + 3600 + 10) * 1000 + 1)).rejects.toThrow(/expired/);
  });

  it("refuses a token signed by another key, an unknown key id, or a tampered body", async () => {
    const now = new Date(T * 1000);
    await expect(verifyMachineToken(token(T, other), { certificates: certificates(), now })).rejects.toThrow(
      /bad token signature/,
    );
    await expect(
      verifyMachineToken(token(T, server, "k2"), { certificates: certificates(), now }),
    ).rejects.toThrow(/no signing certificate for key "k2"/);
    await expect(verifyMachineToken("!!", { certificates: certificates(), now })).rejects.toThrow(
      MachineTokenVerifyError,
    );
    await expect(verifyMachineToken(token(T, server), { certificates: { k1: "junk" }, now })).rejects.toThrow(
      /bad signing certificate/,
    );
  });

  it("does not treat inherited object keys as certificates", async () => {
    await expect(
      verifyMachineToken(token(T, server, "toString"), {
        certificates: certificates(),
        now: new Date(T * 1000),
      }),
    ).rejects.toThrow(/no signing certificate/);
  });
});

describe("parseMachineToken: more forms", () => {
  it("accepts the golden token with padding", () => {
    expect(GOLDEN_TOKEN.length % 4).toBe(2);
    const decoded = parseMachineToken(`${GOLDEN_TOKEN}==`);
    expect(decoded.body.machineFqdn).toBe("host.domain");
    expect(decoded.certSerialHex).toBe("3039");
    expect(decoded.keyId).toBe("key_id");
  });

  /** base64 (no padding) of an envelope around `body`. */
  const envelopeOf = (body: Parameters<typeof create<typeof MachineTokenBodySchema>>[1]) =>
    Buffer.from(
      toBinary(
        MachineTokenEnvelopeSchema,
        create(MachineTokenEnvelopeSchema, {
          tokenBody: toBinary(MachineTokenBodySchema, create(MachineTokenBodySchema, body)),
          keyId: "k",
          rsaSha256: new Uint8Array([1]),
        }),
      ),
    )
      .toString("base64")
      .replace(/=+$/, "");

  it.each([
    ["whitespace around it", ` ${GOLDEN_TOKEN}\n`],
    ["three padding characters", `${GOLDEN_TOKEN}===`],
    ["a body without machine_fqdn", envelopeOf({ issuedAt: 1n, lifetime: 1n })],
    ["a body without issued_at", envelopeOf({ machineFqdn: "h.d", lifetime: 1n })],
    ["an envelope whose body is not a body", Buffer.from([0x0a, 0x02, 0xff, 0xff]).toString("base64")],
    ["truncated", GOLDEN_TOKEN.slice(0, 40)],
  ])("refuses %s", (_name, token) => {
    expect(() => parseMachineToken(token)).toThrow(MachineTokenFormatError);
  });

  it("strips leading zero bytes of the serial and keeps a zero serial as 0", () => {
    const withZeros = parseMachineToken(
      envelopeOf({
        machineFqdn: "h.d",
        issuedAt: 5n,
        lifetime: 1n,
        certSn: new Uint8Array([0, 0, 0x0a, 0x01]),
      }),
    );
    expect(withZeros.certSerialHex).toBe("a01");
    const zero = parseMachineToken(
      envelopeOf({ machineFqdn: "h.d", issuedAt: 5n, lifetime: 1n, certSn: new Uint8Array([0]) }),
    );
    expect(zero.certSerialHex).toBe("0");
  });
});

describe("verifyMachineToken: window, signature and certificates", () => {
  let signer: TestIdentity;
  beforeAll(async () => {
    signer = (await makeTestPki()).leaf;
  });

  const T = 1_600_000_000;
  const LIFETIME = 3600;

  /** Builds a token; `tamper` may change the signed body bytes or the signature before encoding. */
  function build(
    options: { keyId?: string; tamper?: (parts: { body: Uint8Array; signature: Uint8Array }) => void } = {},
  ): string {
    const body = toBinary(
      MachineTokenBodySchema,
      create(MachineTokenBodySchema, {
        machineFqdn: "bot-1.example.com",
        issuedBy: "token-server@example.com",
        issuedAt: BigInt(T),
        lifetime: BigInt(LIFETIME),
        caId: 7n,
        certSn: new Uint8Array([0x30, 0x39]),
      }),
    );
    const parts = { body, signature: new Uint8Array(sign("sha256", body, signer.privateKey)) };
    options.tamper?.(parts);
    const envelope = create(MachineTokenEnvelopeSchema, {
      tokenBody: parts.body,
      keyId: options.keyId ?? "key-1",
      rsaSha256: parts.signature,
    });
    return Buffer.from(toBinary(MachineTokenEnvelopeSchema, envelope)).toString("base64").replace(/=+$/, "");
  }

  const certificates = () => ({ "key-1": signer.certPem });
  const verifyAt = (token: string, ms: number, certs: SigningCertificates = certificates()) =>
    verifyMachineToken(token, { certificates: certs, now: new Date(ms) });

  const start = (T - 10) * 1000;
  const end = (T + LIFETIME + 10) * 1000;
  it.each<[string, number, RegExp | undefined]>([
    ["issued_at − 10 s − 1 ms", start - 1, /not valid yet: issued at 2020-09-13T12:26:40.000Z/],
    ["issued_at − 10 s", start, undefined],
    ["issued_at − 10 s + 1 ms", start + 1, undefined],
    ["issued_at", T * 1000, undefined],
    ["expiry", (T + LIFETIME) * 1000, undefined],
    ["expiry + 10 s − 1 ms", end - 1, undefined],
    ["expiry + 10 s", end, undefined],
    ["expiry + 10 s + 1 ms", end + 1, /expired at 2020-09-13T13:26:40.000Z/],
  ])("at %s: %s", async (_name, ms, error) => {
    const token = build();
    if (error) {
      await expect(verifyAt(token, ms)).rejects.toThrow(MachineTokenVerifyError);
      await expect(verifyAt(token, ms)).rejects.toThrow(error);
    } else {
      const decoded = await verifyAt(token, ms);
      expect(decoded.body).toMatchObject({ machineFqdn: "bot-1.example.com", caId: 7n });
      expect(decoded.certSerialHex).toBe("3039");
    }
  });

  it("takes allowedSkewMs", async () => {
    const token = build();
    const opts = (now: number, allowedSkewMs: number) => ({
      certificates: certificates(),
      now: new Date(now),
      allowedSkewMs,
    });
    await expect(verifyMachineToken(token, opts(T * 1000 - 1, 0))).rejects.toThrow(/not valid yet/);
    await expect(verifyMachineToken(token, opts(T * 1000, 0))).resolves.toBeDefined();
    await expect(verifyMachineToken(token, opts((T + LIFETIME) * 1000 + 1, 0))).rejects.toThrow(/expired/);
    await expect(verifyMachineToken(token, opts(end + 50_000, 60_000))).resolves.toBeDefined();
  });

  it.each<[string, (p: { body: Uint8Array; signature: Uint8Array }) => void]>([
    [
      "the first signature byte flipped",
      (p) => {
        p.signature[0] = (p.signature[0] ?? 0) ^ 0x01;
      },
    ],
    [
      "the last signature byte flipped",
      (p) => {
        p.signature[p.signature.length - 1] = (p.signature.at(-1) ?? 0) ^ 0x80;
      },
    ],
    [
      "a truncated signature",
      (p) => {
        p.signature = p.signature.slice(1);
      },
    ],
    [
      "no signature",
      (p) => {
        p.signature = new Uint8Array();
      },
    ],
    [
      "a body byte changed after signing",
      (p) => {
        // "bot-1" → "bot-2": still a valid body, no longer the signed one.
        const i = Buffer.from(p.body).indexOf("bot-1");
        p.body[i + 4] = "2".charCodeAt(0);
      },
    ],
  ])("refuses %s", async (_name, tamper) => {
    const token = build({ tamper });
    await expect(verifyAt(token, T * 1000)).rejects.toThrow(/bad token signature/);
  });

  it("accepts both certificate shapes and refuses an unknown key id in either", async () => {
    const token = build();
    const list: SigningCertificates = {
      certificates: [
        { key_name: "other", x509_certificate_pem: "junk" },
        { key_name: "key-1", x509_certificate_pem: signer.certPem },
      ],
    };
    expect((await verifyAt(token, T * 1000, list)).keyId).toBe("key-1");
    expect((await verifyAt(token, T * 1000, { "key-0": "junk", "key-1": signer.certPem })).keyId).toBe(
      "key-1",
    );
    const unknown = build({ keyId: "key-9" });
    await expect(verifyAt(unknown, T * 1000, list)).rejects.toThrow('no signing certificate for key "key-9"');
    await expect(verifyAt(unknown, T * 1000)).rejects.toThrow('no signing certificate for key "key-9"');
    await expect(verifyAt(token, T * 1000, { certificates: [] })).rejects.toThrow(/no signing certificate/);
    await expect(verifyAt(token, T * 1000, {})).rejects.toThrow(/no signing certificate/);
  });

  it("names an unknown key as one escaped line (the key id comes from the token)", async () => {
    const evil = build({ keyId: "k\u202e\u2028\u001b[2J" });
    await expect(verifyAt(evil, T * 1000)).rejects.toThrow(
      'no signing certificate for key "k\\u202e\\u2028\\x1b[2J"',
    );
  });

  it("checks the window before the signature, so an expired token is reported as expired", async () => {
    const token = build({ keyId: "key-9" });
    await expect(verifyAt(token, end + 1)).rejects.toThrow(/expired/);
  });
});
