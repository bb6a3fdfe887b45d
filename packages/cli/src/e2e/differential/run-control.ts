import { join } from "node:path";
import { describe, it } from "vitest";
import { mintedReply } from "../../../../core/src/testing/fake-prpc-server.js";
import { type DiffWorkspace, expectSame, type Impl, runBoth } from "../../testing/differential.js";
import type { DiffContext } from "./context.js";

/** Interrupts and copies that cannot be written (the metrics dump: ts-mon.ts). */
export function runControlScenarios(suite: { ctx: DiffContext; ws: DiffWorkspace }): void {
  describe("the run itself", () => {
    it("SIGINT while the call is in flight: CANCELED, status still written", async () => {
      const { ctx, ws } = suite;
      ctx.raw.respond(() => ({ ...mintedReply(), delayMs: 60_000 }));
      const result = await runBoth(ws, (impl) => ws.args(impl, ctx.raw.backend), {
        serverCalls: () => ctx.raw.requests.length,
        onSpawn: (child) => {
          // Interrupt once the request has reached the server (polled, not slept).
          const seen = ctx.raw.requests.length;
          const poll = setInterval(() => {
            if (ctx.raw.requests.length > seen) {
              clearInterval(poll);
              child.kill("SIGINT");
            }
          }, 5);
          child.once("close", () => clearInterval(poll));
        },
      });
      expectSame(result);
    });

    it("a copy that cannot be written, when minting and when the token is good", async () => {
      const { ctx, ws } = suite;
      const args = (impl: Impl) => [
        ...ws.args(impl, ctx.dev.backend),
        "-token-file-copy",
        join(ws.dir(impl), "no-such-dir", "copy.json"),
      ];
      expectSame(await runBoth(ws, args, { serverCalls: ctx.mints }));
      // Go leaves failure_error empty on this path (its own docs call it a quirk); we say what broke.
      expectSame(await runBoth(ws, args, { serverCalls: ctx.mints }), {
        "status/failure_error": { go: false, ts: true },
      });
    });
  });
}
