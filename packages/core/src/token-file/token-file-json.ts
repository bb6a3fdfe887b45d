import type { TokenFile } from "../gen/tokenserver/token_file_pb.js";
import { type FlatJsonValue, readFlatJsonObject } from "./flat-json-object.js";
import { goJsonBytes } from "./go-json-bytes.js";
import { goJsonInt64, goJsonInt64FromString } from "./go-json-int64.js";
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
 * Parses TokenFile JSON text strictly, exactly as Go's protojson reads it: an object whose keys
 * are known fields, each at most once; `null` leaves a field unset; strings must be strings;
 * int64 a JSON number or a string holding one, whole and within range (`"4e9"` is read,
 * `"007"` is not: see go-json-int64.ts); bytes base64 as Go decodes it (go-json-bytes.ts).
 * Errors never quote the file: an unknown key or a value may be part of a token (or of another
 * file a symlink pointed at), so they give the kind and the line, and name only the fields of
 * TokenFile.
 */
export function tokenFileFromJson(text: string): TokenFileFromJson {
  const read = readFlatJsonObject(text);
  if ("error" in read) return { error: read.error };
  const token = makeTokenFile();
  const fields = token as unknown as Record<string, unknown>;
  const seen = new Set<string>();
  for (const { key, line, value } of read.members) {
    // Go's order: an unknown key, then a repeated one, then the value.
    const field = TOKEN_FILE_FIELDS.find((f) => f.key === key);
    if (field === undefined) return { error: `unknown field at line ${line}` };
    if (seen.has(key)) return { error: `field ${JSON.stringify(key)} is set more than once at line ${line}` };
    seen.add(key);
    if (value.kind === "null") continue;
    const converted = convert(field.kind, value);
    if ("error" in converted) return { error: `field ${JSON.stringify(key)}: ${converted.error}` };
    fields[field.prop] = converted.value;
  }
  return { token };
}

function convert(
  kind: FieldKind,
  raw: FlatJsonValue,
): { value: string | bigint | Uint8Array } | { error: string } {
  switch (kind) {
    case "string":
      if (raw.kind !== "string") return { error: `expecting a string, got ${describe(raw)}` };
      return { value: raw.value };
    case "int64": {
      const text = raw.kind === "number" ? raw.text : raw.kind === "string" ? raw.value : undefined;
      const n =
        raw.kind === "number"
          ? goJsonInt64(raw.text)
          : raw.kind === "string"
            ? goJsonInt64FromString(raw.value)
            : undefined;
      if (n !== undefined) return { value: n };
      if (text !== undefined && /^-?\d+$/.test(text)) return { error: "out of the int64 range" };
      return { error: `expecting an integer, got ${describe(raw)}` };
    }
    case "bytes": {
      if (raw.kind !== "string") return { error: `expecting base64, got ${describe(raw)}` };
      const bytes = goJsonBytes(raw.value);
      return bytes === undefined ? { error: "invalid base64" } : { value: bytes };
    }
  }
}

/** The kind of a JSON value, never the value: "a number", "a string", … */
function describe(value: FlatJsonValue): string {
  switch (value.kind) {
    case "null":
      return "null";
    case "array":
    case "object":
      return `an ${value.kind}`;
    default:
      return `a ${value.kind}`;
  }
}
