import { createPrivateKey, generateKeyPairSync, sign } from "node:crypto";

/**
 * `count` distinct self-signed root certificates as one PEM text, made fast enough for a test
 * to use tens of thousands: one EC P-256 key and one template, each copy with its own serial and
 * `CN=Generated Root NNNNNNN` in subject and issuer, each signed by that key (~50 µs a root), or
 * with `signatures: "shared"` all carrying the first one's signature (25,000 in ~0.3 s; a root's
 * own signature is never checked, by Go or OpenSSL, so they load and index the same).
 */
export function generatedRootsPem(count: number, options: { signatures?: "each" | "shared" } = {}): string {
  const template = rootTemplate(options.signatures === "shared");
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(template(i));
  return out.join("");
}

/** Makes the PEM of root number `i`. */
function rootTemplate(shareSignature: boolean): (i: number) => string {
  let shared: Buffer | undefined;
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const spki = publicKey.export({ type: "spki", format: "der" });
  const key = createPrivateKey(privateKey.export({ type: "pkcs8", format: "pem" }));
  return (i) => {
    const id = String(i).padStart(7, "0");
    const name = seq(
      set(seq(Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]), tlv(0x0c, Buffer.from(`Generated Root ${id}`)))),
    );
    const tbs = seq(
      tlv(0xa0, tlv(0x02, Buffer.from([2]))), // v3
      tlv(0x02, Buffer.from([0x01, i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff])), // serial
      ECDSA_SHA256,
      name,
      seq(tlv(0x17, Buffer.from("200101000000Z")), tlv(0x17, Buffer.from("400101000000Z"))),
      name,
      spki,
    );
    if (!shareSignature || shared === undefined) shared = sign("sha256", tbs, key);
    const signature = shared;
    const der = seq(tbs, ECDSA_SHA256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
    return `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`;
  };
}

const ECDSA_SHA256 = seq(tlv(0x06, Buffer.from("2a8648ce3d040302", "hex")));

function seq(...parts: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(parts));
}

function set(...parts: Buffer[]): Buffer {
  return tlv(0x31, Buffer.concat(parts));
}

/** A DER element: tag, definite length, body. */
function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const length =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}
