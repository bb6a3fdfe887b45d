import { describe, expect, it } from "vitest";
import { CALL_OVERHEAD_BYTES, callCost, createMemoryBudget } from "./memory-budget.js";

describe("createMemoryBudget", () => {
  it("counts what leases and the cache take, and gets it back", () => {
    const budget = createMemoryBudget(100);
    const a = budget.lease();
    expect(a.take(60)).toBe(true);
    expect(budget.tryTake(30)).toBe(true);
    expect(budget.usedBytes).toBe(90);
    expect(a.take(11)).toBe(false); // nothing to evict: refused, nothing taken
    expect([a.heldBytes, budget.usedBytes]).toEqual([60, 90]);
    a.give(20);
    expect(budget.tryTake(31)).toBe(false); // the cache never evicts
    budget.give(30);
    a.release();
    a.release(); // twice is harmless
    expect(budget.usedBytes).toBe(0);
    expect(a.take(1)).toBe(false); // a released lease takes nothing more
  });

  it("a newer call short of bytes evicts stalled uploads older than it, oldest first, only if that is enough", () => {
    const budget = createMemoryBudget(100);
    const evicted: string[] = [];
    const arrivingLease = (name: string, bytes: number) => {
      const lease = budget.lease();
      lease.arriving(() => evicted.push(name));
      expect(lease.take(bytes)).toBe(true);
      return lease;
    };
    const oldest = arrivingLease("oldest", 30);
    const middle = arrivingLease("middle", 30);
    const done = budget.lease();
    expect(done.take(30)).toBe(true); // its body arrived: not evictable
    const newcomer = budget.lease();
    expect(newcomer.take(71)).toBe(false); // evicting both uploads frees 60, not enough for 71
    expect(evicted).toEqual([]);
    expect(newcomer.take(40)).toBe(true); // evicting the oldest (30) is enough
    expect(evicted).toEqual(["oldest"]);
    expect([oldest.heldBytes, oldest.take(1), budget.usedBytes]).toEqual([0, false, 100]);
    // An older call does not evict a newer one: it is refused instead.
    const older = budget.lease();
    const newer = budget.lease();
    newer.arriving(() => evicted.push("newer"));
    middle.release();
    expect(newer.take(30)).toBe(true);
    expect(older.take(1)).toBe(false);
    expect(evicted).toEqual(["oldest"]);
    newcomer.release();
    done.release();
    newer.release();
    expect(budget.usedBytes).toBe(0);
  });

  it("an upload marked arrived can no longer be evicted", () => {
    const budget = createMemoryBudget(10);
    const first = budget.lease();
    first.arriving(() => {
      throw new Error("evicted after it arrived");
    });
    expect(first.take(10)).toBe(true);
    first.arrived();
    expect(budget.lease().take(1)).toBe(false);
  });
});

describe("callCost", () => {
  it("is the fixed overhead for ordinary headers, and grows with large ones (kept twice)", () => {
    const ordinary = [":method", "POST", ":path", "/prpc/tokenserver.minter.TokenMinter/MintMachineToken"];
    expect(callCost(ordinary)).toBe(CALL_OVERHEAD_BYTES);
    const large = ["x-a", "a".repeat(40 * 1024)];
    expect(callCost(large)).toBe(CALL_OVERHEAD_BYTES + 2 * (40 * 1024 + 3 - 4 * 1024));
  });
});
