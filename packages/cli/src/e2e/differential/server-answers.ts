import { type AddressInfo, createServer } from "node:net";
import { Code } from "@connectrpc/connect";
import { ErrorCode } from "@luci-machine-tokend/core/gen";
import { describe, it } from "vitest";
import {
  BINARY,
  grpcErrorReply,
  messageReply,
  mintedReply,
  type Reply,
} from "../../../../core/src/testing/fake-prpc-server.js";
import { type DiffWorkspace, expectSame, type KeptDifference, runBoth } from "../../testing/differential.js";
import type { DiffContext } from "./context.js";

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const inAnHour = () => new Date(Date.now() + 3_600_000);

/** gRPC codes a client does not retry (everything but OK, UNKNOWN, INTERNAL, UNAVAILABLE, DEADLINE_EXCEEDED). */
const FINAL_CODES = [1, 3, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16] as const;
const TRANSIENT_CODES = [Code.Unknown, Code.Internal, Code.Unavailable] as const;

/** Every class of answer a token server (or what stands in front of it) can give. */
export function serverAnswerScenarios(suite: { ctx: DiffContext; ws: DiffWorkspace }): void {
  /** Runs both against the dev server, arming `fault` before each run. */
  const againstDev = (fault: () => void, extra: string[] = [], kept?: Record<string, KeptDifference>) => {
    const { ctx, ws } = suite;
    return runBoth(ws, (impl) => [...ws.args(impl, ctx.dev.backend), ...extra], {
      serverCalls: ctx.mints,
      before: () => {
        ctx.dev.faults.clear();
        ctx.dev.requests.length = 0;
        fault();
      },
    }).then((r) => expectSame(r, kept));
  };
  /** Runs both against the raw server answering `reply` to every call. */
  const againstRaw = async (
    reply: () => Reply,
    extra: string[] = [],
    kept?: Record<string, KeptDifference>,
  ) => {
    const { ctx, ws } = suite;
    ctx.raw.respond(reply);
    // A bound on every raw scenario, so an answer one side retries cannot hang the suite.
    const timeout = extra.includes("-timeout") ? [] : ["-timeout", "2s"];
    const result = await runBoth(ws, (impl) => [...ws.args(impl, ctx.raw.backend), ...timeout, ...extra], {
      serverCalls: () => ctx.raw.requests.length,
    });
    expectSame(result, kept);
  };

  describe("LUCI logic errors (error_code)", () => {
    for (const code of [ErrorCode.BAD_TIMESTAMP, ErrorCode.UNTRUSTED_CERTIFICATE, 1234 as ErrorCode]) {
      it(`error_code ${ErrorCode[code] ?? code}`, () =>
        againstDev(() => suite.ctx.dev.faults.set({ errorCode: { code, times: 1 } })));
    }
    it("a real BAD_TOKEN_ARGUMENTS: a machine outside the configured domains", async () => {
      const outsider = await suite.ctx.pki.issue({ commonName: "bot-9.elsewhere.org" });
      await suite.ws.setInputs(suite.ctx.pki.keyPem, outsider.certPem);
      await againstDev(() => {});
    });
  });

  describe("gRPC codes that are not retried", () => {
    for (const code of FINAL_CODES) {
      it(`code ${code} (${Code[code]})`, () =>
        againstDev(() => suite.ctx.dev.faults.set({ grpcError: { code, times: 1 } })));
    }
    it("code 17, beyond the known codes", () => againstRaw(() => grpcErrorReply(17, "seventeen", 500)));
  });

  describe("transient answers, retried until -timeout", () => {
    for (const code of TRANSIENT_CODES) {
      it(`code ${code} (${Code[code]})`, () =>
        againstDev(() => suite.ctx.dev.faults.set({ grpcError: { code } }), ["-timeout", "1s"]));
    }
    it("an HTML 502 page from a proxy", () =>
      againstDev(
        () => suite.ctx.dev.faults.set({ httpFault: { kind: "proxy-html", status: 502 } }),
        ["-timeout", "1s"],
      ));
    it("a server that never answers", () =>
      againstRaw(() => ({ ...mintedReply(), delayMs: 60_000 }), ["-timeout", "1s"]));
    it("nothing listening", async () => {
      const { ws } = suite;
      const port = await closedPort();
      expectSame(await runBoth(ws, (impl) => [...ws.args(impl, `127.0.0.1:${port}`), "-timeout", "1s"]));
    });
    it("connections reset mid-answer", () =>
      againstDev(() => suite.ctx.dev.faults.set({ httpFault: { kind: "reset" } }), ["-timeout", "1s"]));
    it("a truncated body", () =>
      againstDev(() => suite.ctx.dev.faults.set({ httpFault: { kind: "truncate" } }), ["-timeout", "1s"]));
    it("a 200 without the pRPC code header", () =>
      againstRaw(
        () => ({ status: 200, headers: { "Content-Type": "text/html" }, body: "<html>hi</html>" }),
        ["-timeout", "1s"],
      ));
  });

  describe("answers that end the call at once", () => {
    it("a body over the 32 MiB cap: UNKNOWN_RPC_ERROR (code 14 is tagged transient)", () =>
      againstDev(() => suite.ctx.dev.faults.set({ httpFault: { kind: "oversize", times: 1 } })));
    it("a code header that is not a number", () => againstRaw(() => grpcErrorReply(Number.NaN, "nan", 500)));
    it("an HTTP 403 from a proxy, without pRPC headers", () =>
      againstDev(() =>
        suite.ctx.dev.faults.set({ httpFault: { kind: "proxy-html", status: 403, times: 1 } }),
      ));
  });

  describe("successful answers", () => {
    it("a gzip-encoded answer", () =>
      againstRaw(() => ({ ...mintedReply("token-1", inAnHour()), gzip: true })));
    it("a token living less than 5 minutes: next update in 2.5 minutes", () =>
      againstDev(() => suite.ctx.dev.faults.set({ tokenLifetimeMs: 60_000 })));
    it("a real BAD_TIMESTAMP: the server clock 11 minutes ahead", () =>
      againstDev(() => suite.ctx.dev.faults.set({ clockOffsetMs: 11 * 60_000 })));
    it("a real UNTRUSTED_CERTIFICATE: a certificate from an unknown CA", async () => {
      await suite.ws.setInputs(suite.ctx.pki.keyPem, suite.ctx.pki.untrusted.certPem);
      await againstDev(() => {});
    });
    it("a real UNTRUSTED_CERTIFICATE: an expired certificate", async () => {
      await suite.ws.setInputs(suite.ctx.pki.keyPem, suite.ctx.pki.expired.certPem);
      await againstDev(() => {});
    });
  });

  describe("success code with a bad answer", () => {
    // Both end at once with UNKNOWN_RPC_ERROR: Go tags code 13 as transient before choosing the outcome.
    it("a wrong Content-Type", () =>
      againstRaw(() => ({
        ...mintedReply(),
        headers: { "Content-Type": "text/html", "X-Prpc-Grpc-Code": "0" },
      })));
    it("an undecodable body", () =>
      againstRaw(() => ({
        status: 200,
        headers: { "Content-Type": BINARY, "X-Prpc-Grpc-Code": "0" },
        body: "\xff\xff\xff",
      })));
    it("a success without a token", () => againstRaw(() => messageReply({ serviceVersion: "raw/1" })));
    it("a token_response without luci_machine_token", () =>
      againstRaw(() =>
        messageReply({ serviceVersion: "raw/1", tokenResponse: { serviceVersion: "raw/1" } }),
      ));
  });
}
