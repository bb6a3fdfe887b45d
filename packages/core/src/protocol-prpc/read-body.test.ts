import { gzipSync } from "node:zlib";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { isUnusableResponse } from "../mint/unusable-response.js";
import { readResponseBody } from "./read-body.js";

async function* chunks(...parts: Uint8Array[]) {
  for (const p of parts) yield p;
}
const b = (s: string) => new Uint8Array(Buffer.from(s));

describe("readResponseBody", () => {
  it("concatenates the chunks", async () => {
    expect(Buffer.from(await readResponseBody(chunks(b("ab"), b("cd")), new Headers(), 10)).toString()).toBe(
      "abcd",
    );
  });

  it("accepts exactly the limit", async () => {
    expect((await readResponseBody(chunks(b("abcd")), new Headers(), 4)).length).toBe(4);
  });

  it("refuses a body over the limit as it arrives (UNAVAILABLE, unusable, worded as Go)", async () => {
    const err = await readResponseBody(chunks(b("abc"), b("de")), new Headers(), 4).catch((e) => e);
    expect(isUnusableResponse(err)).toBe(true);
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toBe("prpc: the response size exceeds the client limit 4");
  });

  it("refuses a declared Content-Length over the limit before reading", async () => {
    let read = false;
    async function* body() {
      read = true;
      yield b("x");
    }
    const err = await readResponseBody(body(), new Headers({ "Content-Length": "5" }), 4).catch((e) => e);
    expect(isUnusableResponse(err)).toBe(true);
    expect(err.rawMessage).toBe("prpc: the response size 5 exceeds the client limit 4");
    expect(read).toBe(false);
  });

  it("inflates gzip bodies, capping the inflated size", async () => {
    const gz = new Uint8Array(gzipSync(Buffer.from("hello world")));
    const header = new Headers({ "Content-Encoding": "gzip" });
    expect(Buffer.from(await readResponseBody(chunks(gz), header, 100)).toString()).toBe("hello world");
    const bomb = new Uint8Array(gzipSync(Buffer.alloc(10_000)));
    expect(bomb.length).toBeLessThan(100);
    expect(isUnusableResponse(await readResponseBody(chunks(bomb), header, 100).catch((e) => e))).toBe(true);
  });
});
