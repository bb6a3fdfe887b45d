import { sign } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import { MachineTokenBodySchema, MachineTokenEnvelopeSchema } from "./gen/tokenserver/machine_token_pb.js";
import { decodeMachineToken, MachineTokenFormatError } from "./machine-token.js";
import { makeSelfSignedIdentity, type TestIdentity } from "./testing/pki.js";
import { GOLDEN_TOKEN } from "./testing/vectors.js";
import { MachineTokenVerifyError, verifyMachineToken } from "./verify-machine-token.js";

describe("decodeMachineToken", () => {
  it("decodes the upstream golden token (§2.11 C)", () => {
    const decoded = decodeMachineToken(GOLDEN_TOKEN);
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
    expect(() => decodeMachineToken(token)).toThrow(MachineTokenFormatError);
  });
});

describe("verifyMachineToken", () => {
  let server: TestIdentity;
  let other: TestIdentity;
  beforeAll(async () => {
    [server, other] = await Promise.all([makeSelfSignedIdentity("server"), makeSelfSignedIdentity("other")]);
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

  it("accepts a token inside its window signed by the named key", () => {
    const decoded = verifyMachineToken(token(T, server), {
      certificates: certificates(),
      now: new Date(T * 1000),
    });
    expect(decoded.body.machineFqdn).toBe("host.example.com");
    expect(decoded.certSerialHex).toBe("1000");
  });

  it("accepts the published certificates list shape", () => {
    const list = { certificates: [{ key_name: "k1", x509_certificate_pem: server.certPem }] };
    expect(() =>
      verifyMachineToken(token(T, server), { certificates: list, now: new Date(T * 1000) }),
    ).not.toThrow();
  });

  it("allows 10 s of skew at both ends and no more", () => {
    const t = token(T, server);
    const at = (s: number) => () => verifyMachineToken(t, { certificates: certificates(), now: new Date(s) });
    expect(at((T - 10) * 1000)).not.toThrow();
    expect(at((T - 10) * 1000 - 1)).toThrow(/not valid yet/);
    expect(at((T + 3600 + 10) * 1000)).not.toThrow();
    expect(at((T + 3600 + 10) * 1000 + 1)).toThrow(/expired/);
  });

  it("refuses a token signed by another key, an unknown key id, or a tampered body", () => {
    const now = new Date(T * 1000);
    expect(() => verifyMachineToken(token(T, other), { certificates: certificates(), now })).toThrow(
      /bad token signature/,
    );
    expect(() => verifyMachineToken(token(T, server, "k2"), { certificates: certificates(), now })).toThrow(
      /no signing certificate for key "k2"/,
    );
    expect(() => verifyMachineToken("!!", { certificates: certificates(), now })).toThrow(
      MachineTokenVerifyError,
    );
    expect(() => verifyMachineToken(token(T, server), { certificates: { k1: "junk" }, now })).toThrow(
      /bad signing certificate/,
    );
  });

  it("does not treat inherited object keys as certificates", () => {
    expect(() =>
      verifyMachineToken(token(T, server, "toString"), {
        certificates: certificates(),
        now: new Date(T * 1000),
      }),
    ).toThrow(/no signing certificate/);
  });
});
