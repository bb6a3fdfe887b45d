/** An HTTP token (RFC 9110 `field-name`). */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Characters a field value must not hold (the Fetch standard's check). */
const FORBIDDEN_IN_VALUE = /[\0\r\n]/;
/** HTTP whitespace around a value, which the Fetch standard strips. */
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

/**
 * The Fetch standard's `Headers` for the pRPC path, so a call never touches the global one: on
 * Node 20 the first `Headers` loads undici, which cost 127 M instructions (25-50 ms here) and
 * 9.4 MiB of peak RSS, a third of what a refresh adds to bare Node (BENCHMARKS.md). Same
 * behaviour where this project and Connect use it: case-insensitive names, values joined with
 * `, `, `set-cookie` kept apart, iteration sorted by name, a TypeError for a bad name or value.
 * Hand-written: `headers-polyfill` reads `globalThis.Headers` when it copies one, loading undici.
 */
export class HttpHeaders implements Headers {
  readonly #values = new Map<string, string[]>();

  constructor(init?: HeadersInit) {
    if (init === undefined) return;
    const pairs: Iterable<readonly string[]> =
      Symbol.iterator in init ? (init as Iterable<readonly string[]>) : Object.entries(init);
    for (const pair of pairs) {
      if (pair.length !== 2) throw new TypeError("Headers: each header is a [name, value] pair");
      this.append(pair[0] as string, pair[1] as string);
    }
  }

  get [Symbol.toStringTag](): string {
    return "Headers";
  }

  append(name: string, value: string): void {
    const key = fieldName(name);
    const list = this.#values.get(key);
    if (list) list.push(fieldValue(value));
    else this.#values.set(key, [fieldValue(value)]);
  }

  set(name: string, value: string): void {
    this.#values.set(fieldName(name), [fieldValue(value)]);
  }

  delete(name: string): void {
    this.#values.delete(fieldName(name));
  }

  get(name: string): string | null {
    return this.#values.get(fieldName(name))?.join(", ") ?? null;
  }

  has(name: string): boolean {
    return this.#values.has(fieldName(name));
  }

  getSetCookie(): string[] {
    return [...(this.#values.get("set-cookie") ?? [])];
  }

  forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    for (const [key, value] of this) callback.call(thisArg, value, key, this);
  }

  *entries(): IterableIterator<[string, string]> {
    for (const key of [...this.#values.keys()].sort()) {
      const list = this.#values.get(key) as string[];
      if (key === "set-cookie") for (const value of list) yield [key, value];
      else yield [key, list.join(", ")];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

function fieldName(name: string): string {
  if (!FIELD_NAME.test(name)) throw new TypeError(`Headers: invalid header name ${JSON.stringify(name)}`);
  return name.toLowerCase();
}

function fieldValue(value: string): string {
  const text = String(value).replace(EDGE_WHITESPACE, "");
  if (FORBIDDEN_IN_VALUE.test(text)) throw new TypeError("Headers: invalid header value");
  return text;
}
