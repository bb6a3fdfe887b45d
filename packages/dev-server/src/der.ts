/**
 * Just enough DER to take a certificate apart and put it back together, so test certificates can
 * carry serials that certificate generators refuse to write (zero, negative).
 */

/** One DER element: tag byte, start of its content and the offset just after it. */
export interface DerElement {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the element. */
  end: number;
}

/** Reads the element starting at `offset`. Throws on truncated or indefinite-length input. */
export function readDerElement(bytes: Uint8Array, offset: number): DerElement {
  const tag = bytes[offset];
  let lengthByte = bytes[offset + 1];
  if (tag === undefined || lengthByte === undefined) throw new RangeError("DER: truncated element");
  let pos = offset + 2;
  let length = lengthByte;
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f;
    if (count === 0 || count > 4) throw new RangeError("DER: unsupported length encoding");
    length = 0;
    for (let i = 0; i < count; i++) {
      lengthByte = bytes[pos++];
      if (lengthByte === undefined) throw new RangeError("DER: truncated length");
      length = length * 256 + lengthByte;
    }
  }
  const end = pos + length;
  if (end > bytes.length) throw new RangeError("DER: element runs past the end");
  return { tag, start: offset, contentStart: pos, end };
}

/** The children of a constructed element. */
export function derChildren(bytes: Uint8Array, parent: DerElement): DerElement[] {
  const out: DerElement[] = [];
  for (let pos = parent.contentStart; pos < parent.end; ) {
    const child = readDerElement(bytes, pos);
    out.push(child);
    pos = child.end;
  }
  return out;
}

/** Encodes one element from its tag and content. */
export function encodeDerElement(tag: number, content: Uint8Array): Uint8Array {
  const len = content.length;
  let header: number[];
  if (len < 0x80) header = [tag, len];
  else {
    const lenBytes: number[] = [];
    for (let v = len; v > 0; v = Math.floor(v / 256)) lenBytes.unshift(v % 256);
    header = [tag, 0x80 | lenBytes.length, ...lenBytes];
  }
  const out = new Uint8Array(header.length + len);
  out.set(header, 0);
  out.set(content, header.length);
  return out;
}

/** Concatenates byte arrays. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
