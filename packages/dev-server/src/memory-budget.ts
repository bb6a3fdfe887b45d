/**
 * The dev server's one memory budget: request bytes held across every connection and stream
 * (bodies as they arrive, reservations for inflating gzip) plus the certificate cache. Each call
 * holds its share through a {@link BudgetLease}, returned when the call ends.
 */
export interface MemoryBudget {
  readonly limitBytes: number;
  /** Bytes held now, by calls and the cache. */
  readonly usedBytes: number;
  /** A new call's share (empty). */
  lease(): BudgetLease;
  /** Takes bytes for a long-lived holder (the certificate cache) if they are free; never evicts. */
  tryTake(bytes: number): boolean;
  /** Returns bytes taken with {@link tryTake}. */
  give(bytes: number): void;
}

/**
 * What a call costs before its body: node's request and response objects, headers, timers, ours
 * (in node 20, ~14 KiB of live heap and ~21-27 KiB of RSS for a call waiting for its body), so a
 * flood of calls that never send a body is bounded by the budget too (2,730 of them in 64 MiB).
 */
export const CALL_OVERHEAD_BYTES = 24 * 1024;

/** Header bytes {@link CALL_OVERHEAD_BYTES} covers (a tokend's are a few hundred). */
const HEADERS_IN_OVERHEAD = 4 * 1024;

/**
 * What admitting a call costs: {@link CALL_OVERHEAD_BYTES}, plus twice its headers past the first
 * 4 KiB (node keeps them twice: the raw list and the object). They may be up to 64 KiB on HTTP/2:
 * 400 streams with 60 KB of headers each held 35 KiB of heap apiece.
 */
export function callCost(rawHeaders: readonly string[]): number {
  let bytes = 0;
  for (const text of rawHeaders) bytes += text.length;
  return CALL_OVERHEAD_BYTES + 2 * Math.max(0, bytes - HEADERS_IN_OVERHEAD);
}

/** What one call holds of the budget. */
export interface BudgetLease {
  /** Bytes held now. */
  readonly heldBytes: number;
  /** Evicted or released: it takes nothing more. */
  readonly released: boolean;
  /**
   * Takes `bytes` more. When the budget is short, bodies still arriving for calls that began
   * before this one are evicted, oldest first, if that frees enough. False, and nothing taken,
   * when it cannot be done (or this lease was evicted or released).
   */
  take(bytes: number): boolean;
  /** Returns part of what it holds (a reservation larger than what was used). */
  give(bytes: number): void;
  /**
   * Marks the call's body as still arriving: a newer call short of bytes may evict it, which
   * returns its bytes and calls `onEvict` once. A stalled upload thus cannot keep newer calls out.
   */
  arriving(onEvict: () => void): void;
  /** The body has arrived (or reading stopped): no longer evictable. */
  arrived(): void;
  /** Returns everything; later takes fail. Safe to call more than once. */
  release(): void;
}

/** Creates a budget of `limitBytes`. */
export function createMemoryBudget(limitBytes: number): MemoryBudget {
  let used = 0;
  let leases = 0;
  // Leases whose body is arriving, in the order they began to arrive (oldest first).
  const arriving = new Map<LeaseState, () => void>();

  const giveBack = (state: LeaseState, bytes: number) => {
    const n = Math.min(bytes, state.held);
    state.held -= n;
    used -= n;
  };
  const close = (state: LeaseState) => {
    arriving.delete(state);
    giveBack(state, state.held);
    state.closed = true;
  };
  /** Evicts arriving calls older than `state`, oldest first, if together they free `bytes`. */
  const evictFor = (state: LeaseState, bytes: number): boolean => {
    const victims: LeaseState[] = [];
    let freed = 0;
    for (const other of arriving.keys()) {
      if (used - freed + bytes <= limitBytes) break;
      if (other.seq >= state.seq) continue;
      victims.push(other);
      freed += other.held;
    }
    if (used - freed + bytes > limitBytes) return false;
    for (const victim of victims) {
      const onEvict = arriving.get(victim);
      close(victim);
      onEvict?.();
    }
    return true;
  };

  return {
    limitBytes,
    get usedBytes() {
      return used;
    },
    lease(): BudgetLease {
      const state: LeaseState = { seq: leases++, held: 0, closed: false };
      return {
        get heldBytes() {
          return state.held;
        },
        get released() {
          return state.closed;
        },
        take(bytes) {
          if (state.closed) return false;
          if (used + bytes > limitBytes && !evictFor(state, bytes)) return false;
          used += bytes;
          state.held += bytes;
          return true;
        },
        give: (bytes) => giveBack(state, bytes),
        arriving(onEvict) {
          if (!state.closed) arriving.set(state, onEvict);
        },
        arrived() {
          arriving.delete(state);
        },
        release: () => close(state),
      };
    },
    tryTake(bytes) {
      if (used + bytes > limitBytes) return false;
      used += bytes;
      return true;
    },
    give(bytes) {
      used -= bytes;
    },
  };
}

interface LeaseState {
  /** Order of creation: smaller began earlier. */
  seq: number;
  held: number;
  closed: boolean;
}
