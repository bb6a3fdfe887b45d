/**
 * A minimal DER reader: enough to read the parameters of an encrypted private key before anything
 * costly is done with it. Hand-written because the key is loaded on every run, also the
 * token-is-good one that must stay lean, and the ASN.1 packages at hand (@peculiar/asn1-*) load
 * their schema runtime and still lack PBES2 and scrypt parameters.
 */

/** One DER element: its tag byte and its contents. */
export interface DerElement {
  tag: number;
  contents: Uint8Array;
}

/** DER tags read here. */
export const DER = { INTEGER: 0x02, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06, SEQUENCE: 0x30 } as const;

/** Thrown for bytes that are not the DER expected; the message says what is wrong, never the bytes. */
export class DerError extends Error {
  override name = "DerError";
}

/** The element at `offset` and where the next one starts. */
function readAt(bytes: Uint8Array, offset: number): { element: DerElement; next: number } {
  const tag = bytes[offset];
  let length = bytes[offset + 1];
  if (tag === undefined || length === undefined) throw new DerError("truncated");
  let start = offset + 2;
  if (length & 0x80) {
    const size = length & 0x7f;
    // 0x80 is BER's indefinite length, which DER has not; 4 length bytes are more than a key needs.
    if (size === 0 || size > 4) throw new DerError("bad length");
    length = 0;
    for (let i = 0; i < size; i++) {
      const byte = bytes[start + i];
      if (byte === undefined) throw new DerError("truncated");
      length = length * 256 + byte;
    }
    start += size;
  }
  const end = start + length;
  if (end > bytes.length) throw new DerError("truncated");
  return { element: { tag, contents: bytes.subarray(start, end) }, next: end };
}

/** The one element `bytes` hold (nothing may follow it). */
export function readDer(bytes: Uint8Array): DerElement {
  const { element, next } = readAt(bytes, 0);
  if (next !== bytes.length) throw new DerError("trailing bytes");
  return element;
}

/** The elements inside a SEQUENCE, checked to be one. */
export function sequenceItems(element: DerElement | undefined): DerElement[] {
  const contents = expectTag(element, DER.SEQUENCE).contents;
  const items: DerElement[] = [];
  for (let offset = 0; offset < contents.length; ) {
    const { element: item, next } = readAt(contents, offset);
    items.push(item);
    offset = next;
  }
  return items;
}

/** `element`, checked to have `tag`. */
export function expectTag(element: DerElement | undefined, tag: number): DerElement {
  if (element?.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}`);
  return element;
}

/** An OBJECT IDENTIFIER in dotted form ("1.2.840.113549.1.5.13"). */
export function readOid(element: DerElement | undefined): string {
  const { contents } = expectTag(element, DER.OID);
  if (contents.length === 0 || contents.length > 64) throw new DerError("bad object identifier");
  const arcs: number[] = [];
  let value = 0;
  for (const byte of contents) {
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) throw new DerError("bad object identifier");
    if (byte & 0x80) continue;
    if (arcs.length > 0) arcs.push(value);
    else {
      const first = Math.min(2, Math.floor(value / 40));
      arcs.push(first, value - 40 * first);
    }
    value = 0;
  }
  if ((contents[contents.length - 1] ?? 0) & 0x80) throw new DerError("bad object identifier");
  return arcs.join(".");
}

/** A non-negative INTEGER, whatever its size (iteration counts are compared with caps). */
export function readUnsigned(element: DerElement | undefined): bigint {
  const { contents } = expectTag(element, DER.INTEGER);
  if (contents.length === 0 || (contents[0] ?? 0) & 0x80) throw new DerError("bad non-negative integer");
  let value = 0n;
  for (const byte of contents) value = (value << 8n) | BigInt(byte);
  return value;
}

/** The bytes of an OCTET STRING. */
export function readOctets(element: DerElement | undefined): Uint8Array {
  return expectTag(element, DER.OCTET_STRING).contents;
}
