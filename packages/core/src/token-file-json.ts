import type { TokenFile } from "./gen/tokenserver/token_file_pb.js";
import { makeTokenFile, type TokenFileInit } from "./make-token-file.js";

/**
 * The proto3 JSON codec of `tokenserver.TokenFile`, written out by hand so that reading and writing
 * the token file (every run, usually the only work) needs no protobuf runtime: loading it would
 * double tokend's start-up time. token-file-json.test.ts checks this table against the generated
 * schema and both directions against protobuf-es on random inputs.
 */

type FieldKind = "string" | "int64" | "bytes";

/** The fields of TokenFile in field-number order: JSON key (json_name = proto name) and property. */
export const TOKEN_FILE_FIELDS: ReadonlyArray<{ key: string; prop: keyof TokenFileFields; kind: FieldKind }> =
  [
    { key: "access_token", prop: "accessToken", kind: "string" },
    { key: "token_type", prop: "tokenType", kind: "string" },
    { key: "luci_machine_token", prop: "luciMachineToken", kind: "string" },
    { key: "expiry", prop: "expiry", kind: "int64" },
    { key: "last_update", prop: "lastUpdate", kind: "int64" },
    { key: "next_update", prop: "nextUpdate", kind: "int64" },
    { key: "service_account_email", prop: "serviceAccountEmail", kind: "string" },
    { key: "service_account_unique_id", prop: "serviceAccountUniqueId", kind: "string" },
    { key: "tokend_state", prop: "tokendState", kind: "bytes" },
  ];

type TokenFileFields = Required<TokenFileInit>;

/** A UTF-16 surrogate without its pair: a JSON string that has no UTF-8 form. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** proto3 JSON with 2-space indent, fields in number order, zero values left out, int64 as strings. */
export function tokenFileToJson(token: TokenFile): string {
  const lines: string[] = [];
  for (const { key, prop, kind } of TOKEN_FILE_FIELDS) {
    const value = token[prop];
    if (kind === "string" && value !== "") lines.push(`  "${key}": ${JSON.stringify(value)}`);
    if (kind === "int64" && value !== 0n) lines.push(`  "${key}": "${value}"`);
    if (kind === "bytes" && (value as Uint8Array).length > 0) {
      lines.push(`  "${key}": "${Buffer.from(value as Uint8Array).toString("base64")}"`);
    }
  }
  return lines.length === 0 ? "{}" : `{\n${lines.join(",\n")}\n}`;
}

/** A TokenFile, or why the JSON is not one. */
export type TokenFileFromJson =
  | { token: TokenFile; error?: undefined }
  | { token?: undefined; error: string };

/**
 * Parses TokenFile JSON strictly, like Go's protojson: the value must be an object whose keys are
 * known fields, each at most once; `null` leaves a field unset; strings must be strings, int64 a
 * JSON integer or a decimal string within range, bytes standard or URL-safe base64 with or without
 * padding. `duplicateKey` is the first repeated key of the text (JSON.parse hides repeats);
 * `lineOf` gives a key's line in the text, for errors. Errors never quote the file: an unknown key
 * or a value may be part of a token (or of another file a symlink pointed at), so they give the
 * kind and the line, and name only the fields of TokenFile.
 */
export function tokenFileFromJson(
  value: unknown,
  duplicateKey?: string,
  lineOf?: (key: string) => number | undefined,
): TokenFileFromJson {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { error: `expecting a JSON object, got ${describe(value)}` };
  }
  const at = (key: string) => {
    const line = lineOf?.(key);
    return line === undefined ? "" : ` at line ${line}`;
  };
  const known = (key: string) => TOKEN_FILE_FIELDS.find((f) => f.key === key);
  if (duplicateKey !== undefined) {
    const name = known(duplicateKey) ? `field ${JSON.stringify(duplicateKey)}` : "an unknown field";
    return { error: `${name} is set more than once${at(duplicateKey)}` };
  }
  const token = makeTokenFile();
  const fields = token as unknown as Record<string, unknown>;
  for (const [key, raw] of Object.entries(value)) {
    const field = known(key);
    if (field === undefined) return { error: `unknown field${at(key)}` };
    if (raw === null) continue;
    const converted = convert(field.kind, raw);
    if ("error" in converted) return { error: `field ${JSON.stringify(key)}: ${converted.error}` };
    fields[field.prop] = converted.value;
  }
  return { token };
}

function convert(kind: FieldKind, raw: unknown): { value: string | bigint | Uint8Array } | { error: string } {
  switch (kind) {
    case "string":
      if (typeof raw !== "string") return { error: `expecting a string, got ${describe(raw)}` };
      if (LONE_SURROGATE.test(raw)) return { error: "invalid UTF-8" };
      return { value: raw };
    case "int64": {
      let n: bigint;
      if (typeof raw === "number" && Number.isInteger(raw)) n = BigInt(raw);
      else if (typeof raw === "string" && /^-?\d+$/.test(raw)) n = BigInt(raw);
      else return { error: `expecting an integer, got ${describe(raw)}` };
      if (n < INT64_MIN || n > INT64_MAX) return { error: "out of the int64 range" };
      return { value: n };
    }
    case "bytes": {
      if (typeof raw !== "string") return { error: `expecting base64, got ${describe(raw)}` };
      const unpadded = raw.replace(/={1,2}$/, "");
      if (!/^[A-Za-z0-9+/_-]*$/.test(unpadded) || unpadded.length % 4 === 1)
        return { error: "invalid base64" };
      return { value: new Uint8Array(Buffer.from(unpadded.replace(/-/g, "+").replace(/_/g, "/"), "base64")) };
    }
  }
}

/** The kind of a JSON value, never the value: "a number", "a string", … */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
