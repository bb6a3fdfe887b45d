import type { DescField, DescMessage, MessageShape } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";

/**
 * A message in the protobuf text format as Go's `proto.MarshalTextString` (golang/protobuf's
 * legacy text marshaller) writes it, which is what LUCI's ts-mon appends to a `file://` endpoint:
 * `name: value` lines, nested messages as `name: <` … `>` indented by two spaces, fields in
 * declaration order (a oneof at the place of its first field), only fields that are set (proto2
 * presence; proto3 non-zero), enums by name, strings byte by byte with Go's escapes, floats as
 * Go's `%v`, map entries sorted by key, and a newline after every field.
 * Not written (ts-mon's messages have none): groups, unknown fields and extensions.
 */
export function goProtoText<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): string {
  const lines: string[] = [];
  writeMessage(reflect(schema, message), "", lines);
  return lines.join("");
}

function writeMessage(m: ReflectMessage, indent: string, out: string[]): void {
  const fields = m.fields;
  for (let i = 0; i < fields.length; ) {
    let field: DescField | undefined = fields[i] as DescField;
    if (field.oneof !== undefined) {
      // Go visits a oneof once, where its first field is declared, and writes the chosen field.
      i += field.oneof.fields.length;
      field = m.oneofCase(field.oneof);
    } else {
      i++;
    }
    if (field === undefined || !m.isSet(field)) continue;
    writeField(m, field, indent, out);
  }
}

function writeField(m: ReflectMessage, field: DescField, indent: string, out: string[]): void {
  const name = field.name;
  switch (field.fieldKind) {
    case "list": {
      for (const item of m.get(field)) {
        if (field.listKind === "message") writeNested(name, item as ReflectMessage, indent, out);
        else if (field.listKind === "enum") out.push(`${indent}${name}: ${enumName(field.enum, item)}\n`);
        else out.push(`${indent}${name}: ${scalarText(field.scalar, item)}\n`);
      }
      return;
    }
    case "map": {
      const map = m.get(field);
      const entries = [...map.entries()].sort(([a], [b]) => compareKeys(a, b));
      for (const [key, value] of entries) {
        out.push(`${indent}${name}: <\n`);
        const inner = `${indent}  `;
        out.push(`${inner}key: ${scalarText(field.mapKey, key)}\n`);
        if (field.mapKind === "message") writeNested("value", value as ReflectMessage, inner, out);
        else if (field.mapKind === "enum") out.push(`${inner}value: ${enumName(field.enum, value)}\n`);
        else out.push(`${inner}value: ${scalarText(field.scalar, value)}\n`);
        out.push(`${indent}>\n`);
      }
      return;
    }
    case "message":
      writeNested(name, m.get(field), indent, out);
      return;
    case "enum":
      out.push(`${indent}${name}: ${enumName(field.enum, m.get(field))}\n`);
      return;
    case "scalar":
      out.push(`${indent}${name}: ${scalarText(field.scalar, m.get(field))}\n`);
      return;
  }
}

function writeNested(name: string, value: ReflectMessage, indent: string, out: string[]): void {
  out.push(`${indent}${name}: <\n`);
  writeMessage(value, `${indent}  `, out);
  out.push(`${indent}>\n`);
}

function enumName(
  desc: { values: readonly { number: number; name: string }[] } | undefined,
  n: unknown,
): string {
  return desc?.values.find((v) => v.number === n)?.name ?? String(n);
}

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === "string" && typeof b === "string") return goStringCompare(a, b);
  const [x, y] = [BigInt(a as bigint | number | boolean), BigInt(b as bigint | number | boolean)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Go compares strings byte by byte (UTF-8); JavaScript by UTF-16 code unit. */
function goStringCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function scalarText(type: ScalarType, value: unknown): string {
  switch (type) {
    case ScalarType.STRING:
      return goQuotedBytes(new TextEncoder().encode(value as string));
    case ScalarType.BYTES:
      return goQuotedBytes(value as Uint8Array);
    case ScalarType.DOUBLE:
      return goFloatText(value as number, 64);
    case ScalarType.FLOAT:
      return goFloatText(value as number, 32);
    default:
      // Booleans, and integers of every width (numbers, bigints or decimal strings).
      return String(value);
  }
}

/** Bytes in double quotes as Go's text marshaller writes them: `\n \r \t \" \\`, other non-printable bytes as `\ooo`. */
export function goQuotedBytes(bytes: Uint8Array): string {
  let text = '"';
  for (const c of bytes) {
    if (c === 0x0a) text += "\\n";
    else if (c === 0x0d) text += "\\r";
    else if (c === 0x09) text += "\\t";
    else if (c === 0x22) text += '\\"';
    else if (c === 0x5c) text += "\\\\";
    else if (c >= 0x20 && c < 0x7f) text += String.fromCharCode(c);
    else text += `\\${c.toString(8).padStart(3, "0")}`;
  }
  return `${text}"`;
}

/**
 * A float as Go's `fmt.Print` writes it (`%v`, which is strconv's shortest `%g`): `inf`, `-inf`
 * and `nan` as the text marshaller spells them; the shortest digits that read back as the same
 * value (as a float32 for `bits` 32); exponent form (`1e+06`, `1.5e-05`) when the exponent is
 * below -4 or at least 6.
 */
export function goFloatText(value: number, bits: 32 | 64): string {
  if (Number.isNaN(value)) return "nan";
  if (value === Number.POSITIVE_INFINITY) return "inf";
  if (value === Number.NEGATIVE_INFINITY) return "-inf";
  const sign = value < 0 || Object.is(value, -0) ? "-" : "";
  const [mantissa = "0", expText = "0"] = shortestExponential(Math.abs(value), bits).split("e");
  const digits = mantissa.replace(".", "");
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const e = Math.abs(exp).toString().padStart(2, "0");
    return `${sign}${mantissa}e${exp < 0 ? "-" : "+"}${e}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const fraction = digits.slice(exp + 1);
  return `${sign}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** `d.ddde±x` with the fewest digits that read back as `value` (a float32 when `bits` is 32). */
function shortestExponential(value: number, bits: 32 | 64): string {
  if (bits === 64) return value.toExponential();
  for (let digits = 0; digits < 9; digits++) {
    const text = value.toExponential(digits);
    if (Math.fround(Number(text)) === value) return text;
  }
  return value.toExponential(8);
}
