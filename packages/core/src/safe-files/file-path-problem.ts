/** The first BEGIN line of PEM text: its type is shown, never the text. */
const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{1,64})-----/;
/** Base64 of "-----BEGIN" (PEM text encoded once more, as secret stores and Kubernetes keep it). */
const BASE64_PEM = /LS0tLS1CRUdJTi/;

/**
 * Why `value` cannot be a file path, when it is the contents of a PEM file instead (an easy
 * mistake: `readFileSync(path, "utf8")` where `path` was wanted) or not a string at all; else
 * undefined. The answer names the PEM type ("a private key") but never quotes the value: it may
 * be a private key, which must not reach an error message, a log or a status file.
 */
export function filePathProblem(value: unknown): string | undefined {
  if (typeof value !== "string") {
    const what = value instanceof Uint8Array ? "bytes" : typeof value;
    return `${what}, not a file path (not shown)`;
  }
  const type = PEM_BEGIN.exec(value)?.[1];
  if (type !== undefined) return `PEM text (${pemTypeInWords(type)}), not a file path (not shown)`;
  if (value.includes("-----END ")) return "PEM text, not a file path (not shown)";
  if (BASE64_PEM.test(value)) return "base64 of PEM text, not a file path (not shown)";
  return undefined;
}

/** A PEM type for messages: "a private key" for every kind of private key, else the type quoted. */
function pemTypeInWords(type: string): string {
  return type.endsWith("PRIVATE KEY") ? "a private key" : JSON.stringify(type);
}
