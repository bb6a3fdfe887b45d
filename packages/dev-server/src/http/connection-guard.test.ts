import { readFileSync } from "node:fs";
import { connect as h2connect } from "node:http2";
import { connect, type Socket } from "node:net";
import { createTokenMinterClient } from "@luci-machine-tokend/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevServer, startDevServer } from "../start-dev-server.js";
import { createTestPki, type TestPki } from "../test-pki.js";
import { signedMintRequest } from "../testing/signed-request.js";
import { startTrustingServer } from "../testing/start-trusting-server.js";
import { EVICTION_GRACE_MS } from "./connection-guard.js";

/**
 * Idle and slow clients cannot take the dev server down: idle connections on both ports close after
 * the idle timeout, the connection cap makes room by closing the longest-idle one, slow requests
 * are dropped, and a real client is served all along.
 */

let pki: TestPki;
const servers: DevServer[] = [];

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-4.example.com" });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function start(options: Parameters<typeof startDevServer>[0]) {
  const server = await startTrustingServer(pki, options);
  servers.push(server);
  return server;
}

/** An idle TCP connection: connected, never sends a byte; `closed` resolves when the server closes it. */
interface IdleSocket {
  socket: Socket;
  openedAt: number;
  closedAt?: number;
  closed: Promise<void>;
}

function openIdle(backend: string): Promise<IdleSocket> {
  const [host = "", port = ""] = backend.split(":");
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host);
    const idle: IdleSocket = {
      socket,
      openedAt: 0,
      closed: new Promise((done) =>
        socket.once("close", () => {
          idle.closedAt = performance.now();
          done();
        }),
      ),
    };
    socket.resume();
    socket.once("connect", () => {
      idle.openedAt = performance.now();
      resolve(idle);
    });
    socket.once("error", reject);
  });
}

/** Opens `count` idle connections in batches, each batch accepted by the server before the next. */
async function openIdleMany(server: DevServer, backend: string, count: number): Promise<IdleSocket[]> {
  const sockets: IdleSocket[] = [];
  while (sockets.length < count) {
    const before = server.openConnections();
    const batch = await Promise.all(
      Array.from({ length: Math.min(400, count - sockets.length) }, () => openIdle(backend)),
    );
    sockets.push(...batch);
    // A burst past the listen backlog (511) would leave connections the server has not accepted yet.
    await until(() => server.openConnections() >= before + batch.length);
  }
  return sockets;
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function mintOver(server: DevServer, protocol: "prpc" | "grpc") {
  const backend = protocol === "grpc" ? (server.grpcBackend ?? "") : server.backend;
  const answer = await createTokenMinterClient(backend, { protocol }).mintMachineToken(
    signedMintRequest(pki),
  );
  return answer.tokenResponse?.tokenType.case;
}

/** Soft limit of open files of this process (Linux), or undefined. */
function openFileLimit(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === "unlimited" ? Number.POSITIVE_INFINITY : Number(soft);
  } catch {
    return undefined;
  }
}

const IDLE_PER_PORT = 2_000;
// Both ends of every idle connection live in this process, plus the test's own files.
const FDS_NEEDED = IDLE_PER_PORT * 2 * 2 + 200;
const fdLimit = openFileLimit();

describe("idle connections", () => {
  it.skipIf(fdLimit !== undefined && fdLimit < FDS_NEEDED)(
    `${IDLE_PER_PORT} idle connections per port: a real client is served, then they close after the idle timeout (needs ${FDS_NEEDED} open files)`,
    async () => {
      // Longer than opening the 4,000 connections takes on a loaded machine (1-3 s).
      const idleTimeoutMs = 5_000;
      const server = await start({ idleTimeoutMs, maxConnections: IDLE_PER_PORT + 100 });
      const idle = [
        ...(await openIdleMany(server, server.backend, IDLE_PER_PORT)),
        ...(await openIdleMany(server, server.grpcBackend ?? "", IDLE_PER_PORT)),
      ];
      expect(server.openConnections()).toBe(2 * IDLE_PER_PORT);
      expect(await mintOver(server, "prpc")).toBe("luciMachineToken");
      expect(await mintOver(server, "grpc")).toBe("luciMachineToken");
      expect(idle.filter((s) => s.closedAt !== undefined)).toHaveLength(0);

      await Promise.all(idle.map((s) => s.closed));
      // Closed by the idle timer, not before: it starts when the server accepts, which on a loaded
      // machine can be a while before this process sees its own connect event (hence the second).
      const earliest = Math.min(...idle.map((s) => (s.closedAt ?? 0) - s.openedAt));
      expect(earliest).toBeGreaterThanOrEqual(idleTimeoutMs - 1_000);
      await until(() => server.openConnections() === 0);
    },
    30_000,
  );
});

describe("the connection cap", () => {
  it("makes room by closing the longest-idle connection, so a real client gets in", async () => {
    const server = await start({ maxConnections: 20, idleTimeoutMs: 60_000 });
    // The first connection of each port is the oldest, the others come after it.
    const h1 = await openIdleMany(server, server.backend, 1);
    const h2 = await openIdleMany(server, server.grpcBackend ?? "", 1);
    h1.push(...(await openIdleMany(server, server.backend, 19)));
    h2.push(...(await openIdleMany(server, server.grpcBackend ?? "", 19)));
    await new Promise((r) => setTimeout(r, EVICTION_GRACE_MS)); // fresh connections are spared
    expect(await mintOver(server, "prpc")).toBe("luciMachineToken");
    expect(await mintOver(server, "grpc")).toBe("luciMachineToken");
    await Promise.all([h1[0]?.closed, h2[0]?.closed]);
    expect([...h1, ...h2].filter((s) => s.closedAt !== undefined)).toHaveLength(2);
    expect(server.openConnections()).toBe(40);
  });

  it("refuses a new connection while every connection has a call in flight or just connected", async () => {
    const server = await start({ maxConnections: 2, faults: { latencyMs: 1_000 } });
    const calls = [mintOver(server, "prpc"), mintOver(server, "prpc")];
    await until(() => server.openConnections() === 2);
    const refused = await openIdle(server.backend).catch(() => undefined);
    await refused?.closed;
    expect(await Promise.all(calls)).toEqual(["luciMachineToken", "luciMachineToken"]);
  });
});

describe("slow requests", () => {
  const timeouts = { headersTimeoutMs: 300, requestTimeoutMs: 600, idleTimeoutMs: 60_000 };

  it("HTTP/1.1: headers or a body that do not arrive in time close the connection", async () => {
    const server = await start(timeouts);
    const headers = await openIdle(server.backend);
    headers.socket.write(
      "POST /prpc/tokenserver.minter.TokenMinter/MintMachineToken HTTP/1.1\r\nHost: x\r\n",
    );
    const body = await openIdle(server.backend);
    body.socket.write(
      "POST /prpc/tokenserver.minter.TokenMinter/MintMachineToken HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789",
    );
    await Promise.all([headers.closed, body.closed]);
    expect((headers.closedAt ?? 0) - headers.openedAt).toBeGreaterThanOrEqual(timeouts.headersTimeoutMs - 20);
    expect((body.closedAt ?? 0) - body.openedAt).toBeLessThan(timeouts.idleTimeoutMs);
  });

  it("HTTP/2: a stream whose body trickles is reset; the session keeps serving", async () => {
    const server = await start(timeouts);
    const session = h2connect(server.grpcUrl ?? "");
    try {
      const stream = session.request({
        ":method": "POST",
        ":path": "/prpc/tokenserver.minter.TokenMinter/MintMachineToken",
        "content-type": "application/prpc; encoding=binary",
        "content-length": "1000",
      });
      stream.write(new Uint8Array(10));
      stream.resume();
      const started = performance.now();
      await new Promise<void>((resolve) => stream.once("close", () => resolve()));
      expect(performance.now() - started).toBeGreaterThanOrEqual(timeouts.requestTimeoutMs - 50);
      expect(stream.rstCode).not.toBe(0);
      const ok = session.request({ ":path": "/auth/api/v1/server/certificates" });
      ok.resume();
      const status = await new Promise((resolve) => ok.once("response", (h) => resolve(h[":status"])));
      expect(status).toBe(200);
    } finally {
      session.destroy();
    }
  });
});
