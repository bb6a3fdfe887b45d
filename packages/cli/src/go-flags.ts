import { parseGoDuration } from "@luci-machine-tokend/core/offline";
import { FLAGS, type FlagSpec } from "./flags.js";

/** Parsed flag values by name: strings, booleans, milliseconds, numbers or string lists. */
export type FlagValues = Map<string, string | boolean | number | string[]>;

/** The result of parsing argv: values, a request for help, or Go's error text. */
export type GoFlagsResult =
  | { kind: "values"; values: FlagValues; positional: string[] }
  | { kind: "help" }
  | { kind: "error"; message: string };

/**
 * Parses arguments exactly like Go's `flag` package: `-name value`, `-name=value`, `--name`,
 * bare `-bool` or `-bool=false` (never `-bool false`), parsing stops at the first non-flag
 * argument or after `--`. `-h`/`-help` ask for help. Errors carry Go's wording.
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
      return { kind: "error", message: `bad flag syntax: ${arg}` };
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    const spec = flags.get(name);
    if (spec === undefined) {
      if (name === "h" || name === "help") return { kind: "help" };
      return { kind: "error", message: `flag provided but not defined: -${name}` };
    }
    if (spec.kind === "bool") {
      const parsed = inline === undefined ? true : parseGoBool(inline);
      if (parsed === undefined)
        return { kind: "error", message: `invalid boolean value "${inline}" for -${name}: parse error` };
      values.set(name, parsed);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= args.length) return { kind: "error", message: `flag needs an argument: -${name}` };
      value = args[++i] ?? "";
    }
    const converted = convert(spec, value, values.get(name));
    if ("error" in converted)
      return { kind: "error", message: `invalid value "${value}" for flag -${name}: ${converted.error}` };
    values.set(name, converted.value);
  }
  return { kind: "values", values, positional: args.slice(i) };
}

function convert(
  spec: FlagSpec,
  text: string,
  previous: unknown,
): { value: string | number | string[] } | { error: string } {
  switch (spec.kind) {
    case "string":
      return { value: text };
    case "strings":
      // Go tokend's repeatable flag refuses empty paths.
      if (text === "") return { error: "empty path" };
      return { value: [...((previous as string[] | undefined) ?? []), text] };
    case "duration": {
      const d = parseGoDuration(text);
      return d.error === undefined ? { value: d.value } : { error: "parse error" };
    }
    case "int":
      return /^[-+]?\d+$/.test(text) ? { value: Number(text) } : { error: "parse error" };
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
