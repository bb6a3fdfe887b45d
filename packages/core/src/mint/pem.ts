/** One PEM block: its type (`CERTIFICATE`, `RSA PRIVATE KEY`, …), its text and its decoded bytes. */
export interface PemBlock {
  type: string;
  /** The block from its BEGIN line through its END line, as node:crypto accepts it. */
  text: string;
  /** The base64 body decoded (headers such as `Proc-Type` skipped). */
  der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/**
 * Finds the PEM blocks in a file, skipping text around them (as Go's encoding/pem skips text
 * before a block). A block whose body is not base64 is left out.
 */
export function decodePemBlocks(bytes: Uint8Array): PemBlock[] {
  const text = new TextDecoder("latin1").decode(bytes);
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const [whole, type = "", body = ""] = m;
    const lines = body.split(/\r?\n/);
    // RFC 1421 headers ("Proc-Type: ...") end at the first empty line.
    const headerEnd = lines.findIndex((l) => l.trim() === "");
    const base64Lines =
      lines.some((l) => l.includes(":")) && headerEnd >= 0 ? lines.slice(headerEnd + 1) : lines;
    const b64 = base64Lines.join("").replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) continue;
    blocks.push({ type, text: whole, der: new Uint8Array(Buffer.from(b64, "base64")) });
  }
  return blocks;
}
