/**
 * Certificate serial numbers: X.509 INTEGERs, carried as bigint here, as minimal big-endian bytes
 * in MachineTokenBody.cert_sn, and as hex in @peculiar/x509 and CRL files.
 */

/** The value of DER INTEGER content bytes (two's complement, big-endian). */
export function bigintFromTwosComplement(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  const first = bytes[0] ?? 0;
  return first & 0x80 ? value - (1n << BigInt(bytes.length * 8)) : value;
}

/** DER INTEGER content bytes of a value: minimal two's complement. */
export function twosComplementFromBigint(value: bigint): Uint8Array {
  let byteLength = 1;
  while (value < -(1n << BigInt(byteLength * 8 - 1)) || value >= 1n << BigInt(byteLength * 8 - 1))
    byteLength++;
  const unsigned = value < 0n ? value + (1n << BigInt(byteLength * 8)) : value;
  const out = new Uint8Array(byteLength);
  for (let i = byteLength - 1, v = unsigned; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/** Minimal unsigned big-endian bytes of a positive serial, as LUCI puts it in cert_sn (12345 → 30 39). */
export function serialBytes(serial: bigint): Uint8Array {
  if (serial <= 0n) throw new RangeError(`serial must be positive, got ${serial}`);
  const hex = serial.toString(16);
  return new Uint8Array(Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex"));
}

/**
 * Parses a serial written in hex (`1a2b`, `1A:2B`, `0x1a2b`), as CRL tools and `openssl x509
 * -serial` print it. Returns undefined for anything else.
 */
export function parseHexSerial(text: string): bigint | undefined {
  const hex = text.trim().replace(/^0x/i, "").replace(/[:\s]/g, "");
  if (!/^[0-9a-f]+$/i.test(hex)) return undefined;
  return BigInt(`0x${hex}`);
}
