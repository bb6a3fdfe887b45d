import { beforeAll, describe, expect, it } from "vitest";
import { createCertificateCache, parsedCertificateBytes } from "./certificate-cache.js";
import { createMemoryBudget } from "./memory-budget.js";
import { parseCertificate } from "./parse-certificate.js";
import { createTestPki, type TestPki } from "./test-pki.js";

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});

describe("createCertificateCache", () => {
  it("keeps certificates by bytes, drops the least recently used, and returns their bytes to the budget", async () => {
    const budget = createMemoryBudget(1 << 30);
    const [a, b, c] = [pki.leaf, await pki.issue(), await pki.issue()].map((l) =>
      parseCertificate(l.certDer),
    );
    if (!a || !b || !c) throw new Error("three certificates");
    const each = parsedCertificateBytes(a.der.length);
    expect([b.der.length, c.der.length]).toEqual([a.der.length, a.der.length]);
    const cache = createCertificateCache(budget, 2 * each);
    cache.remember(a);
    cache.remember(b);
    expect(cache.get(a.der)).toBe(a); // a is now the most recently used
    cache.remember(c); // room for two: b goes
    expect([cache.get(a.der), cache.get(b.der), cache.get(c.der)]).toEqual([a, undefined, c]);
    expect([cache.size, cache.bytes, budget.usedBytes]).toEqual([2, 2 * each, 2 * each]);
    // A certificate is looked up by its bytes, not by object.
    expect(cache.get(new Uint8Array(a.der))).toBe(a);
  });

  it("a large certificate weighs what it weighs; past the cache's share it is not kept at all", () => {
    const leaf = parseCertificate(pki.leaf.certDer);
    const budget = createMemoryBudget(1 << 30);
    const small = createCertificateCache(budget, parsedCertificateBytes(leaf.der.length) - 1);
    small.remember(leaf);
    expect([small.size, budget.usedBytes]).toEqual([0, 0]);
    expect(parsedCertificateBytes(1_000_000)).toBeGreaterThan(8_000_000);
  });

  it("calls in flight come first: with the budget full, nothing is kept", () => {
    const leaf = parseCertificate(pki.leaf.certDer);
    const budget = createMemoryBudget(parsedCertificateBytes(leaf.der.length));
    expect(budget.lease().take(1)).toBe(true);
    const cache = createCertificateCache(budget, 1 << 30);
    cache.remember(leaf);
    expect(cache.get(leaf.der)).toBeUndefined();
  });
});
