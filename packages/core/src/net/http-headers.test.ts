import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HttpHeaders } from "./http-headers.js";

/** What a Headers holds, as its iteration and the getters show it. */
function snapshot(h: Headers) {
  const entries: Array<[string, string]> = [];
  h.forEach((value, name) => {
    entries.push([name, value]);
  });
  return {
    entries,
    get: ["a", "A-B", "set-cookie"].map((n) => [h.get(n), h.has(n)]),
    cookies: h.getSetCookie(),
  };
}

const name = fc.constantFrom("a", "A", "a-b", "A-B", "Set-Cookie", "set-cookie", "x-prpc-grpc-code");
const value = fc.stringMatching(/^[ \t]{0,2}[a-z0-9 ,;=]{0,8}[ \t]{0,2}$/);
const op = fc.oneof(
  fc.tuple(fc.constant("append" as const), name, value),
  fc.tuple(fc.constant("set" as const), name, value),
  fc.tuple(fc.constant("delete" as const), name, value),
);

describe("HttpHeaders: the Fetch standard's Headers, without undici", () => {
  it("behaves as Node's global Headers for any sequence of changes", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value)), fc.array(op), (init: Array<[string, string]>, ops) => {
        const ours = new HttpHeaders(init);
        const theirs = new Headers(init);
        for (const [kind, n, v] of ops) {
          if (kind === "delete") {
            ours.delete(n);
            theirs.delete(n);
          } else {
            ours[kind](n, v);
            theirs[kind](n, v);
          }
        }
        expect(snapshot(ours)).toEqual(snapshot(theirs));
        expect([...ours]).toEqual(snapshot(theirs).entries); // iteration as forEach
      }),
    );
  });

  it("copies a record, another Headers (ours or Node's), and pairs", () => {
    const record = { "Content-Type": "application/prpc; encoding=binary", Accept: "x" };
    const expected = snapshot(new Headers(record));
    expect(snapshot(new HttpHeaders(record))).toEqual(expected);
    expect(snapshot(new HttpHeaders(new Headers(record)))).toEqual(expected);
    expect(snapshot(new HttpHeaders(new HttpHeaders(record)))).toEqual(expected);
    expect(Object.prototype.toString.call(new HttpHeaders())).toBe("[object Headers]");
  });

  it("refuses what Headers refuses: bad names, values with a line break or NUL", () => {
    for (const bad of [() => new HttpHeaders({ "a b": "x" }), () => new HttpHeaders().set("x", "a\nb")]) {
      expect(bad).toThrow(TypeError);
    }
    expect(() => new Headers().set("x", "a\nb")).toThrow(TypeError);
    expect(() => new HttpHeaders().append("x", "a\0b")).toThrow(TypeError);
    expect(() => new HttpHeaders([["only-a-name"]] as unknown as HeadersInit)).toThrow(TypeError);
  });
});
