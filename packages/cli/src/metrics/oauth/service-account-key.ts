import { createHash, createPrivateKey, type KeyObject } from "node:crypto";
import { escapeForLog, readRegularFile } from "@luci-machine-tokend/core/internal";
import { goPathError } from "../go-path-error.js";
import { goJsonField } from "./go-json-field.js";

/** What a service account's JSON key file gives the JWT bearer grant. */
export interface ServiceAccountKey {
  /** `client_email`: the JWT's `iss` ("" when the file has none, as Go sends it). */
  email: string;
  /** `private_key`, as written in the file (a PEM block, or base64 DER). */
  privateKeyText: string;
  /** `private_key_id`: the JWT's `kid`; "" when absent. */
  privateKeyId: string;
  /** `token_uri`, or Google's when absent (as golang.org/x/oauth2/google). */
  tokenUri: string;
  /** `audience`: replaces `aud` when set (as golang.org/x/oauth2/google). */
  audience: string;
}

/** Google's OAuth token endpoint, used when a key file names none (x/oauth2's JWTTokenURL). */
export const GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";

/** Largest key file read: Google's are about 2.4 KB. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

/**
 * Reads a service-account key file as golang.org/x/oauth2/google's JWTConfigFromJSON does (a JSON
 * object, `type` "service_account", the fields it uses strings, matched case-insensitively as
 * Go's decoder does). Read again at every use, as luci-go does, so a replaced key is picked up. A
 * FIFO, a device or another user's symlink is refused unopened; the file is capped at 64 KiB.
 *
 * @returns the key, or a one-line reason naming the file that never quotes its content; a file
 *   that cannot be read gets Go's text (`open PATH: no such file or directory`).
 */
export async function readServiceAccountKey(
  path: string,
): Promise<{ key: ServiceAccountKey } | { error: string }> {
  let text: string;
  try {
    text = new TextDecoder().decode((await readRegularFile(path, MAX_KEY_FILE_BYTES)).bytes);
  } catch (err) {
    return { error: goPathError("open", path, err) };
  }
  const parsed = parseServiceAccountKey(text);
  return "error" in parsed ? { error: `${path}: ${parsed.error}` } : parsed;
}

/** Parses a key file's text; see {@link readServiceAccountKey}. */
export function parseServiceAccountKey(text: string): { key: ServiceAccountKey } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // V8's message would quote the file, i.e. the private key.
    return { error: "not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { error: "not a JSON object" };
  const file = value as Record<string, unknown>;
  const fields = {} as Record<(typeof KEY_FIELDS)[number], string>;
  for (const name of KEY_FIELDS) {
    const v = goJsonField(file, name);
    if (v != null && typeof v !== "string") return { error: `"${name}" is not a string` };
    fields[name] = v ?? "";
  }
  if (fields.type !== "service_account")
    return {
      error: `'type' field is ${JSON.stringify(escapeForLog(fields.type, 64))} (expected "service_account")`,
    };
  return {
    key: {
      email: fields.client_email,
      privateKeyText: fields.private_key,
      privateKeyId: fields.private_key_id,
      tokenUri: fields.token_uri || GOOGLE_TOKEN_URI,
      audience: fields.audience,
    },
  };
}

const KEY_FIELDS = [
  "type",
  "client_email",
  "private_key",
  "private_key_id",
  "token_uri",
  "audience",
] as const;

/**
 * The key's id in luci-go's cache key: `private_key_id`, or `custom:` and the SHA-256 of the
 * private key text when the file has none.
 */
export function cacheKeyId(key: ServiceAccountKey): string {
  if (key.privateKeyId !== "") return key.privateKeyId;
  return `custom:${createHash("sha256").update(key.privateKeyText).digest("hex")}`;
}

/**
 * The RSA private key, as x/oauth2's ParseKey takes it: the first PEM block's bytes (or the text
 * itself) as PKCS#8, else PKCS#1.
 *
 * @throws Error with x/oauth2's reasons ("private key should be a PEM or plain PKCS1 or PKCS8",
 *   "private key is invalid"), which luci-go reads as bad credentials, never retried.
 */
export function rsaPrivateKey(key: ServiceAccountKey): KeyObject {
  const block = /-----BEGIN [^-\n]*-----\r?\n([\s\S]*?)-----END [^-\n]*-----/.exec(key.privateKeyText);
  const der = block ? Buffer.from(block[1] ?? "", "base64") : Buffer.from(key.privateKeyText, "latin1");
  let parsed: KeyObject | undefined;
  for (const type of ["pkcs8", "pkcs1"] as const) {
    try {
      parsed = createPrivateKey({ key: der, format: "der", type });
      break;
    } catch {
      // try the next encoding
    }
  }
  if (parsed === undefined) throw new Error("private key should be a PEM or plain PKCS1 or PKCS8");
  if (parsed.asymmetricKeyType !== "rsa") throw new Error("private key is invalid");
  return parsed;
}
