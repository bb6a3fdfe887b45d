import { isNotFoundError, NotRegularFileError, readCapped } from "@luci-machine-tokend/core/internal";
import { goPathError } from "./go-path-error.js";

/** ts-mon's machine-wide JSON config file (`/etc/chrome-infra/ts-mon.json`), as Go's tsmon reads it. */
export interface TsMonConfig {
  endpoint: string;
  credentials: string;
  actAs: string;
  autogenHostname: boolean;
  hostname: string;
  region: string;
}

/** Keys of the file, as Go's encoding/json matches them (case-insensitively), and their types. */
const KEYS: ReadonlyArray<[key: string, field: keyof TsMonConfig, type: "string" | "boolean"]> = [
  ["endpoint", "endpoint", "string"],
  ["credentials", "credentials", "string"],
  ["act_as", "actAs", "string"],
  ["autogen_hostname", "autogenHostname", "boolean"],
  ["hostname", "hostname", "string"],
  ["region", "region", "string"],
];

const EMPTY: TsMonConfig = {
  endpoint: "",
  credentials: "",
  actAs: "",
  autogenHostname: false,
  hostname: "",
  region: "",
};

/** Largest config file read: it holds a handful of short strings. */
const MAX_CONFIG_BYTES = 64 * 1024;

/**
 * Reads the config file as Go's tsmon loadConfig does: an empty path or a missing file is no
 * config; any other problem is an error (Go then leaves ts-mon off for the run): `failed to open
 * file: …` or `failed to decode file: …`. Keys match case-insensitively, unknown keys are ignored,
 * `null` leaves a key unset, a value of the wrong type is an error. Read as every file here
 * (core's openRegularFile): never through another user's symlink, never a FIFO, at most 64 KiB.
 */
export async function loadTsMonConfig(path: string): Promise<{ config: TsMonConfig } | { error: string }> {
  if (path === "") return { config: { ...EMPTY } };
  let text: string;
  try {
    text = new TextDecoder().decode(await readCapped(path, MAX_CONFIG_BYTES));
  } catch (err) {
    if (isNotFoundError(err)) return { config: { ...EMPTY } };
    // Go opens a directory, then fails to read it.
    if (err instanceof NotRegularFileError && err.fileType === "a directory")
      return { error: `failed to decode file: read ${path}: is a directory` };
    return { error: `failed to open file: ${goPathError("open", path, err)}` };
  }
  let parsed: unknown;
  try {
    // Go's json.Decoder reads the first value and leaves what follows it.
    parsed = JSON.parse(firstJsonValue(text));
  } catch {
    // V8's message would quote the file.
    return { error: "failed to decode file: not valid JSON" };
  }
  if (parsed === null) return { config: { ...EMPTY } };
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    return {
      error: `failed to decode file: json: cannot unmarshal ${jsonKind(parsed)} into Go value of type tsmon.config`,
    };
  }
  const config = { ...EMPTY };
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    const known = KEYS.find(([key]) => key === name.toLowerCase());
    if (known === undefined || value === null) continue;
    const [key, field, type] = known;
    if (typeof value !== type) {
      return {
        error: `failed to decode file: json: cannot unmarshal ${jsonKind(value)} into Go struct field config.${key} of type ${type === "string" ? "string" : "bool"}`,
      };
    }
    (config as Record<string, unknown>)[field] = value;
  }
  return { config };
}

/** The JSON type names Go's decoder uses in its errors. */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") return "object";
  if (typeof value === "boolean") return "bool";
  return typeof value; // number, string
}

/** The text of the first JSON object or array in `text` (what follows it is not read), else `text`. */
function firstJsonValue(text: string): string {
  const start = text.search(/\S/);
  if (start < 0 || (text[start] !== "{" && text[start] !== "[")) return text;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
    } else if (ch === "{" || ch === "[") {
      depth++;
    } else if ((ch === "}" || ch === "]") && --depth === 0) {
      return text.slice(start, i + 1);
    }
  }
  return text;
}
