import { rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { gzipSync } from "node:zlib";
import type { DevServer } from "@luci-machine-tokend/dev-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FakePrpcServer,
  grpcErrorReply,
  messageReply,
  startFakePrpcServer,
} from "../../../../core/src/testing/fake-prpc-server.js";
import { until } from "../../../../core/src/testing/until.js";
import { EVICTION_GRACE_MS } from "../../../../dev-server/src/http/connection-guard.js";
import { runCli } from "../../testing/run-cli.js";
import type { TokendFixture } from "../../testing/tokend-fixture.js";

/** The connection cap of the fault suite's dev server (its default is 1000). */
export const FAULT_SERVER_MAX_CONNECTIONS = 50;

/** What the fault suite lends its parts: the shared dev server, a good token, the table. */
export interface FaultSuite {
  server(): DevServer;
  withGoodToken(): Promise<TokendFixture>;
  status(fx: TokendFixture): Promise<Record<string, unknown>>;
  tokenIsWhole(path: string): Promise<boolean>;
  record(fault: string, runs: number, check: () => Promise<boolean>): Promise<void>;
}

/** Our own log line: `[<L><time> <pid> 0 tokend] <printable text>`. */
const LOG_LINE = /^\[[DIWE]\d{4}-\d\d-\d\dT[\d:.]+Z \d+ 0 tokend\] [\x20-\x7e]*$/;

/**
 * Hostile servers (hardening #11 items 5, 6, 10, 11) and a dev server under abuse (12, 13): each
 * answer is refused or survived with a named outcome, and the good token stays.
 */
export function hostileServerFaults(suite: FaultSuite): void {
  describe("hardening #11: hostile servers", () => {
    let raw: FakePrpcServer;
    beforeAll(async () => {
      raw = await startFakePrpcServer();
    });
    afterAll(() => raw.close());

    /** A forced refresh against the raw server answering `reply`; the token minted before must stay. */
    const refreshAgainstRaw = async (fx: TokendFixture, reply: Parameters<FakePrpcServer["respond"]>[0]) => {
      raw.reset();
      raw.respond(reply);
      // A crash writes no status file: the outcome read after the run must be this run's.
      await rm(fx.statusPath, { force: true });
      return runCli(fx.args(raw.backend, "-force-refresh", "-timeout", "2s"));
    };

    it("an error text that forges log lines and drives the terminal is printed as one escaped line", async () => {
      const fx = await suite.withGoodToken();
      const forged =
        "line one\n[I2026-11-30T00:00:00.000000Z 1 0 tokend] The token was updated\n\x1b[2J\x1b[H\u202eevil\u2028";
      const r = await refreshAgainstRaw(fx, () => grpcErrorReply(7, forged, 403));
      expect(r.code).toBe(1);
      for (const line of r.stderr.trimEnd().split("\n")) expect(line).toMatch(LOG_LINE);
      const s = await suite.status(fx);
      expect(s.update_outcome).toBe("GRPC_ERROR_7");
      expect(s.failure_error).toContain("line one\\n[I2026-11-30T00:00:00.000000Z 1 0 tokend] The token");
      expect(s.failure_error).toMatch(/^[\x20-\x7e]+$/);
      for (const line of String(s.log_dump).slice("\nDUMP LOG:\n".length).trimEnd().split("\n")) {
        expect(line).toMatch(/^ {2}(debug|info|warning|error): [\x20-\x7e]*$/);
      }
      await suite.record("error text forging log lines (escaped)", 1, () => suite.tokenIsWhole(fx.tokenPath));
      await fx.cleanup();
    });

    it("expiries no date holds (8.64e12 s, int64 max): MALFORMED_RESPONSE, status written, token kept", async () => {
      const fx = await suite.withGoodToken();
      for (const seconds of [8_640_000_000_000n, 9_223_372_036_854_775_807n]) {
        const r = await refreshAgainstRaw(fx, () => tokenReply("dG9rZW4", seconds));
        expect(r.code).toBe(1);
        expect((await suite.status(fx)).update_outcome).toBe("MALFORMED_RESPONSE");
      }
      await suite.record("expiry no date holds (2 values)", 2, () => suite.tokenIsWhole(fx.tokenPath));
      await fx.cleanup();
    });

    it("a 20 MB token and an empty token are refused, and the next run still finds the good one", async () => {
      const fx = await suite.withGoodToken();
      for (const token of ["A".repeat(20_000_000), ""]) {
        const r = await refreshAgainstRaw(fx, () =>
          tokenReply(token, BigInt(Math.floor(Date.now() / 1000) + 3600)),
        );
        expect(r.code).toBe(1);
        expect((await suite.status(fx)).update_outcome).toBe("MALFORMED_RESPONSE");
      }
      const next = await runCli(fx.args(suite.server().backend));
      expect(next.code).toBe(0);
      expect((await suite.status(fx)).update_outcome).toBe("TOKEN_IS_GOOD");
      await suite.record("a 20 MB token, an empty token", 2, () => suite.tokenIsWhole(fx.tokenPath));
      await fx.cleanup();
    });

    it("a 1.5 GB Connect answer is cut at the 32 MiB cap", async () => {
      const fx = await suite.withGoodToken();
      let wrote = 0;
      const huge: Server = createServer((req, res) => {
        req.resume();
        res.writeHead(200, { "Content-Type": "application/proto", "Content-Length": 1_500_000_000 });
        const chunk = Buffer.alloc(1 << 20);
        const pump = () => {
          while (!res.destroyed && wrote < 1_500_000_000) {
            wrote += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
        };
        pump();
      });
      await new Promise<void>((resolve) => huge.listen(0, "127.0.0.1", resolve));
      try {
        const backend = `127.0.0.1:${(huge.address() as AddressInfo).port}`;
        const r = await runCli(fx.args(backend, "-protocol", "connect", "-force-refresh", "-timeout", "10s"));
        expect(r.code).toBe(1);
        const s = await suite.status(fx);
        expect(s.update_outcome).toBe("UNKNOWN_RPC_ERROR");
        expect(s.failure_error).toContain("connect: the response size");
        expect(wrote).toBeLessThan(200 << 20); // the client hung up long before 1.5 GB
      } finally {
        huge.closeAllConnections();
        await new Promise<void>((resolve) => huge.close(() => resolve()));
      }
      await suite.record("a 1.5 GB Connect answer", 1, () => suite.tokenIsWhole(fx.tokenPath));
      await fx.cleanup();
    });
  });

  describe("hardening #11: the dev server under abuse", () => {
    it("300 idle connections and gzip bombs do not keep a machine from its token", async () => {
      const fx = await suite.withGoodToken();
      const server = suite.server();
      const [host, port] = [server.backend.split(":")[0] as string, Number(server.backend.split(":")[1])];
      const idle: Socket[] = [];
      try {
        // Six times the server's cap: it must evict the longest idle ones rather than keep them.
        let connected = 0;
        for (let i = 0; i < 300; i++) {
          idle.push(
            connect(port, host)
              .on("connect", () => connected++)
              .on("error", () => {}),
          );
        }
        await until(() => connected === 300, 10_000);
        await until(() => server.openConnections() <= FAULT_SERVER_MAX_CONNECTIONS, 10_000);
        // Past the eviction grace, the idle ones make room for real clients.
        await new Promise((resolve) => setTimeout(resolve, 2 * EVICTION_GRACE_MS));
        const bomb = gzipSync(Buffer.alloc(64 << 20)); // 64 MiB of zeros in ~64 KiB
        for (let i = 0; i < 4; i++) {
          const res = await fetch(`${server.url}/prpc/tokenserver.minter.TokenMinter/MintMachineToken`, {
            method: "POST",
            headers: { "Content-Type": "application/prpc; encoding=binary", "Content-Encoding": "gzip" },
            body: bomb,
          });
          expect(res.status).toBe(503); // over the request cap once inflated
        }
        const r = await runCli(fx.args(server.backend, "-force-refresh"));
        expect(r.code).toBe(0);
        expect((await suite.status(fx)).update_outcome).toBe("UPDATE_SUCCESS");
        expect(server.openConnections()).toBeLessThanOrEqual(FAULT_SERVER_MAX_CONNECTIONS);
      } finally {
        for (const socket of idle) socket.destroy();
      }
      await suite.record("dev server: 300 idle connections, 4 gzip bombs", 1, () =>
        suite.tokenIsWhole(fx.tokenPath),
      );
      await fx.cleanup();
    });
  });
}

/** A raw server's reply carrying `machineToken` with the given expiry (seconds since the epoch). */
function tokenReply(machineToken: string, seconds: bigint) {
  return messageReply({
    serviceVersion: "raw/1",
    tokenResponse: {
      serviceVersion: "raw/1",
      tokenType: { case: "luciMachineToken", value: { machineToken, expiry: { seconds } } },
    },
  });
}
