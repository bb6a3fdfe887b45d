import type { DescField, DescMessage } from "@bufbuild/protobuf";

/**
 * Removes the top-level fields a message does not have from protobuf text, so that protobuf-es's
 * fromText (which has no such option) reads it like Go's prototext with DiscardUnknown, as LUCI's
 * pRPC server decodes text requests. Unknown fields are those named by an unknown identifier, by
 * an `[extension]` name, or by an unknown field number. Known singular fields given twice are an
 * error, as in Go (`non-repeated field "x" is repeated`); protobuf-es would keep the last.
 *
 * Only top-level fields are handled: enough for messages whose fields are scalars (nested unknown
 * fields of known message fields would still be refused). Text this pass cannot follow is
 * returned unchanged, for fromText to report.
 */
export function discardUnknownTextFields(
  schema: DescMessage,
  text: string,
): { text: string } | { error: string } {
  const tokens = tokenize(text);
  if (!tokens) return { text };
  const seen = new Set<string>();
  const cut: Array<[number, number]> = [];
  let i = 0;
  while (i < tokens.length) {
    const name = tokens[i];
    let field: DescField | undefined;
    let nameEnd = i + 1;
    if (name?.kind === "punct" && name.text === "[") {
      // An extension or Any type URL name: never a field of these messages.
      while (nameEnd < tokens.length && tokens[nameEnd]?.text !== "]") nameEnd++;
      nameEnd++;
    } else if (name?.kind === "word") {
      field = /^\d+$/.test(name.text)
        ? schema.fields.find((f) => String(f.number) === name.text)
        : schema.fields.find((f) => f.name === name.text);
    } else {
      return { text };
    }
    const end = skipField(tokens, nameEnd);
    const last = tokens[(end ?? 0) - 1];
    if (end === undefined || !last) return { text };
    if (field === undefined) {
      cut.push([name.start, last.end]);
    } else if (field.fieldKind !== "list" && field.fieldKind !== "map" && name.text === field.name) {
      if (seen.has(field.name))
        return { error: `non-repeated field ${JSON.stringify(field.name)} is repeated` };
      seen.add(field.name);
    }
    i = end;
  }
  let out = "";
  let from = 0;
  for (const [start, end] of cut) {
    out += `${text.slice(from, start)} `;
    from = end;
  }
  return { text: out + text.slice(from) };
}

interface Token {
  kind: "word" | "string" | "punct";
  text: string;
  start: number;
  end: number;
}

/**
 * Splits text into words (identifiers and numbers), quoted strings and single punctuation
 * characters, skipping whitespace and `#` comments. Undefined on an unterminated string.
 */
function tokenize(text: string): Token[] | undefined {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (/\s/.test(c)) {
      i++;
    } else if (c === "#") {
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl + 1;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
      if (text[j] !== c) return undefined;
      tokens.push({ kind: "string", text: text.slice(i, j + 1), start: i, end: j + 1 });
      i = j + 1;
    } else if (/[\w.+-]/.test(c)) {
      const m = /^[\w.+-]+/.exec(text.slice(i));
      const word = m?.[0] ?? c;
      tokens.push({ kind: "word", text: word, start: i, end: i + word.length });
      i += word.length;
    } else {
      tokens.push({ kind: "punct", text: c, start: i, end: i + 1 });
      i++;
    }
  }
  return tokens;
}

/**
 * Index after the field whose name is just before `i`: an optional `:`, then a value (one scalar
 * word, adjacent strings, a `{...}`/`<...>` message or a `[...]` list), then an optional `,` or
 * `;`. Undefined when no value follows.
 */
function skipField(tokens: Token[], i: number): number | undefined {
  if (tokens[i]?.text === ":" && tokens[i]?.kind === "punct") i++;
  const first = tokens[i];
  if (!first) return undefined;
  if (first.kind === "punct" && (first.text === "{" || first.text === "<" || first.text === "[")) {
    let depth = 0;
    for (; i < tokens.length; i++) {
      const t = tokens[i];
      if (t?.kind !== "punct") continue;
      if (t.text === "{" || t.text === "<" || t.text === "[") depth++;
      else if (t.text === "}" || t.text === ">" || t.text === "]") depth--;
      if (depth === 0) break;
    }
    if (depth !== 0) return undefined;
    i++;
  } else if (first.kind === "string") {
    while (tokens[i]?.kind === "string") i++;
  } else if (first.kind === "word") {
    i++;
  } else {
    return undefined;
  }
  const sep = tokens[i];
  if (sep?.kind === "punct" && (sep.text === "," || sep.text === ";")) i++;
  return i;
}
