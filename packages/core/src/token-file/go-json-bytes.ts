/**
 * Reading a bytes field as Go's protojson reads it: standard base64, or URL-safe base64 when the
 * text holds a `-` or `_` (then `+` and `/` are refused); padded when the text's length is a
 * multiple of 4, else unpadded (then `=` is refused). `\r` and `\n` are skipped anywhere, but count
 * in that length. Bits left over in the last character are ignored. Undefined when it does not
 * decode. Hand-written because Node's decoder takes anything (it skips what it does not know).
 */
export function goJsonBytes(text: string): Uint8Array | undefined {
  const urlSafe = /[-_]/.test(text);
  const padded = text.length % 4 === 0;
  const out: number[] = [];
  let i = 0;
  const skipNewlines = () => {
    while (text[i] === "\n" || text[i] === "\r") i++;
  };
  while (i < text.length) {
    const quantum: number[] = [];
    let padding = false;
    while (quantum.length < 4) {
      if (i === text.length) {
        if (quantum.length === 0) return new Uint8Array(out);
        if (quantum.length === 1 || padded) return undefined;
        break;
      }
      const c = text[i++] as string;
      const value = digitValue(c, urlSafe);
      if (value !== undefined) {
        quantum.push(value);
        continue;
      }
      if (c === "\n" || c === "\r") continue;
      if (c !== "=" || !padded || quantum.length < 2) return undefined;
      if (quantum.length === 2) {
        // "==": the second one may come after newlines.
        skipNewlines();
        if (text[i] !== "=") return undefined;
        i++;
      }
      skipNewlines();
      if (i < text.length) return undefined; // nothing may follow the padding
      padding = true;
      break;
    }
    const [a = 0, b = 0, c = 0, d = 0] = quantum;
    const bits = (a << 18) | (b << 12) | (c << 6) | d;
    out.push((bits >> 16) & 0xff, (bits >> 8) & 0xff, bits & 0xff);
    out.length -= 4 - quantum.length;
    if (padding) break;
  }
  return new Uint8Array(out);
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function digitValue(c: string, urlSafe: boolean): number | undefined {
  const index = ALPHABET.indexOf(c);
  if (index !== -1 && c !== "") return index;
  if (c === (urlSafe ? "-" : "+")) return 62;
  if (c === (urlSafe ? "_" : "/")) return 63;
  return undefined;
}
