import { Code } from "@connectrpc/connect";
import { ErrorCode } from "@luci-machine-tokend/core/gen";
import { describe, expect, it } from "vitest";
import { createFaults } from "./faults.js";

describe("createFaults", () => {
  it("counts down counted faults and keeps persistent ones", () => {
    const faults = createFaults({ grpcError: { code: Code.Unavailable, times: 2 }, clockOffsetMs: 5_000 });
    expect(faults.take().grpcError).toEqual({ code: Code.Unavailable });
    expect(faults.current().grpcError?.times).toBe(1);
    expect(faults.take().grpcError).toEqual({ code: Code.Unavailable });
    const third = faults.take();
    expect(third.grpcError).toBeUndefined();
    expect(third.clockOffsetMs).toBe(5_000);
    expect(faults.current()).toEqual({ clockOffsetMs: 5_000 });
  });

  it("consumes at most one failure per call: httpFault, then grpcError, then errorCode", () => {
    const faults = createFaults({
      httpFault: { kind: "reset", times: 1 },
      grpcError: { code: Code.Internal, times: 1 },
      errorCode: { code: ErrorCode.BAD_TIMESTAMP, times: 1 },
    });
    const plans = [faults.take(), faults.take(), faults.take(), faults.take()];
    expect(plans.map((p) => [p.httpFault?.kind, p.grpcError?.code, p.errorCode?.code])).toEqual([
      ["reset", undefined, undefined],
      [undefined, Code.Internal, undefined],
      [undefined, undefined, ErrorCode.BAD_TIMESTAMP],
      [undefined, undefined, undefined],
    ]);
  });

  it("draws random latencies from the injected source, and uncounted faults last until cleared", () => {
    const draws = [0, 0.5, 1];
    const faults = createFaults({ latencyMs: { min: 100, max: 300 } }, () => draws.shift() ?? 0);
    expect([faults.take(), faults.take(), faults.take()].map((p) => p.latencyMs)).toEqual([100, 200, 300]);
    faults.set({ errorCode: { code: ErrorCode.UNTRUSTED_CERTIFICATE } });
    expect([faults.take(), faults.take()].map((p) => p.errorCode?.code)).toEqual([6, 6]);
    faults.set({ errorCode: undefined });
    expect(faults.take().errorCode).toBeUndefined();
    faults.clear("latencyMs");
    expect(faults.take().latencyMs).toBe(0);
  });

  it("refuses nonsense settings", () => {
    const faults = createFaults();
    expect(() => faults.set({ latencyMs: -1 })).toThrow(RangeError);
    expect(() => faults.set({ latencyMs: { min: 5, max: 1 } })).toThrow(RangeError);
    expect(() => faults.set({ grpcError: { code: Code.Internal, times: 0 } })).toThrow(RangeError);
    expect(() => faults.set({ grpcError: { code: 0 as Code } })).toThrow(RangeError);
    expect(faults.current()).toEqual({});
  });
});
