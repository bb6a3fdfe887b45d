import { parseGoDuration } from "@luci-machine-tokend/core/internal";
import { FLAGS, type FlagSpec } from "./flags.js";
import { parseGoInt } from "./go-int.js";
import { escapeUnprintable, goQuote } from "./go-quote.js";

/** One flag's value: text, a boolean, milliseconds (durations) or a mode, an int, or a list. */
export type FlagValue = string | boolean | number | bigint | string[];

/** Parsed flag values by name; only the flags given on the command line (Go's `actual`). */
export type FlagValues = Map<string, FlagValue>;

/**
 * The result of parsing argv: values, a request for help, or Go's error text (and, for some
 * errors, a hint of ours for the line after it).
 */
export type GoFlagsResult =
  | { kind: "values"; values: FlagValues; positional: string[] }
  | { kind: "help" }
  | { kind: "error"; message: string; hint?: string };

/**
 * Parses arguments exactly like Go's `flag` package: `-name value`, `-name=value`, `--name`,
 * bare `-bool` or `-bool=false` (never `-bool false`), parsing stops at the first non-flag
 * argument or after `--`; a repeated flag keeps its last value (a list flag collects them).
 * `-h`/`-help` ask for help. Errors carry Go's wording, with values quoted like Go's `%q`.
 */
export function parseGoFlags(
  args: readonly string[],
  flags: ReadonlyMap<string, FlagSpec> = FLAGS,
): GoFlagsResult {
  const values: FlagValues = new Map();
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg.length < 2 || arg[0] !== "-") break;
    const dashes = arg[1] === "-" ? 2 : 1;
    if (dashes === 2 && arg.length === 2) {
      i++;
      break;
    }
    const body = arg.slice(dashes);
    if (body === "" || body[0] === "-" || body[0] === "=")
      return { kind: "error", message: `bad flag syntax: ${escapeUnprintable(arg)}` };
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    const spec = flags.get(name);
    if (spec === undefined) {
      if (name === "h" || name === "help") return { kind: "help" };
      return { kind: "error", message: `flag provided but not defined: -${escapeUnprintable(name)}` };
    }
    if (spec.kind === "bool") {
      const parsed = inline === undefined ? true : parseGoBool(inline);
      if (parsed === undefined)
        return {
          kind: "error",
          message: `invalid boolean value ${goQuote(inline ?? "")} for -${name}: parse error`,
        };
      values.set(name, parsed);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= args.length) return { kind: "error", message: `flag needs an argument: -${name}` };
      value = args[++i] ?? "";
    }
    const converted = convertFlagValue(spec, value, values.get(name));
    if ("error" in converted) {
      const message = `invalid value ${goQuote(value)} for flag -${name}: ${converted.error}`;
      return { kind: "error", message, ...(converted.hint && { hint: converted.hint }) };
    }
    values.set(name, converted.value);
  }
  return { kind: "values", values, positional: args.slice(i) };
}

/** A flag's default (Go's DefValue) as a value, or its type's zero value. */
export function flagDefault(spec: FlagSpec): FlagValue {
  if (spec.kind === "bool") return spec.default === "true";
  if (spec.default === undefined) return ZERO[spec.kind];
  const converted = convertFlagValue(spec, spec.default, undefined);
  if ("error" in converted) throw new Error(`bad default of -${spec.name}: ${converted.error}`);
  return converted.value;
}

const ZERO: Record<Exclude<FlagSpec["kind"], "bool">, FlagValue> = {
  string: "",
  strings: [],
  duration: 0,
  int: 0n,
  enum: "",
  mode: 0,
};

function convertFlagValue(
  spec: FlagSpec,
  text: string,
  previous: FlagValue | undefined,
): { value: FlagValue } | { error: string; hint?: string } {
  switch (spec.kind) {
    case "string":
      return { value: text };
    case "strings":
      // Go tokend's repeatable flag refuses an empty path, in these words.
      if (text === "") return { error: "must have an argument value" };
      return { value: [...(Array.isArray(previous) ? previous : []), text] };
    case "duration": {
      const d = parseGoDuration(text);
      if (d.error === undefined) return { value: d.value };
      // Go's flag package says only "parse error"; a bare number is the usual mistake.
      const bare = /^[+-]?(\d+\.?\d*|\.\d+)$/.test(text);
      return { error: "parse error", ...(bare && { hint: `a duration needs a unit, e.g. ${text}s` }) };
    }
    case "int": {
      const n = parseGoInt(text);
      return n.error === undefined ? { value: n.value } : { error: n.error };
    }
    case "enum":
      return spec.choices?.includes(text)
        ? { value: text }
        : { error: spec.invalidChoice?.(escapeUnprintable(text)) ?? "invalid value" };
    case "mode":
      return /^0?[0-7]{3}$/.test(text)
        ? { value: Number.parseInt(text, 8) }
        : { error: "expecting an octal mode such as 0644" };
    case "bool":
      return { error: "parse error" };
  }
}

/** Go's strconv.ParseBool. */
export function parseGoBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}
