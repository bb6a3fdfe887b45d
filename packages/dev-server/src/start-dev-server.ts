import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttp2Server, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { createCertificateCache } from "./certificate-cache.js";
import { createConnectService } from "./connect-service.js";
import { type FakeProdx, startFakeProdx } from "./fake-prodx.js";
import { createFaults, type Faults } from "./faults.js";
import { type GoogleFakes, startGoogleFakes } from "./google/google-fakes.js";
import {
  type GuardedConnections,
  guardHttp1Connections,
  guardHttp2Sessions,
} from "./http/connection-guard.js";
import { createMemoryBudget } from "./memory-budget.js";
import { createMinter } from "./minter.js";
import { type DevServerOptions, resolveOptions } from "./options.js";
import { createRequestHandler } from "./request-handler.js";
import type { RecordedRequest } from "./request-log.js";
import { createSigningKey } from "./signing-key.js";
import { createTrustStore } from "./trust-store.js";

/**
 * Streams one HTTP/2 session may have open at once (node's default is unlimited; a client queues
 * the rest). An open stream costs ~14 KiB of live heap even when the memory budget refuses its
 * call, and a refused stream an attacker replaces at once is garbage V8 lets grow to about four
 * times what is live. Measured with streams that never end: at 100 per session, 50 sessions took
 * the process to ~400 MB; at 8, even 1,000 sessions (the connection cap) stayed under 270 MB.
 */
const MAX_CONCURRENT_STREAMS = 8;

/** A running dev token server. */
export interface DevServer {
  /** `-backend` value of the HTTP/1.1 port: `127.0.0.1:<port>` (pRPC, Connect, gRPC-web). */
  backend: string;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** `127.0.0.1:<port>` of the cleartext HTTP/2 port (gRPC and every other protocol), if enabled. */
  grpcBackend?: string;
  /** `http://127.0.0.1:<port>` of the HTTP/2 port, if enabled. */
  grpcUrl?: string;
  /** MintMachineToken calls, decoded, in arrival order: the newest `requestLogLimit` (clear with `length = 0`). */
  requests: RecordedRequest[];
  /** Turns faults on and off while the server runs. */
  faults: Faults;
  /** Certificate of the token-signing key (also at GET /auth/api/v1/server/certificates). */
  signingCertificatePem: string;
  /** The token-signing key, PKCS#1 PEM (pass it back as `signingKeyPem` to keep the key). */
  signingKeyPem: string;
  /** `key_id` of the tokens it mints. */
  keyId: string;
  /** The Google stand-ins asked for (`googleOAuth`, `gceMetadata`, `iamCredentials`). */
  google: GoogleFakes;
  /** The ProdX stand-in, when `prodx` was given: its endpoint and the payloads it received. */
  prodx?: FakeProdx;
  /** Stops listening and drops open connections (keep-alive included). */
  close(): Promise<void>;
  /** HTTP/1.1 connections plus HTTP/2 sessions open now, on both ports. */
  openConnections(): number;
  /** Bytes of the memory budget held now: calls in flight (their own cost and bodies) and cached certificates. */
  memoryInUse(): number;
}

/**
 * Starts a local LUCI Token Server (TokenMinter): pRPC binary and JSON, Connect and gRPC-web on an
 * HTTP/1.1 port, and every protocol, gRPC included, on a second cleartext HTTP/2 port. Validates
 * and mints like the real server (luci-go rpc_mint_machine_token.go) and can inject faults.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const o = resolveOptions(options);
  const [trust, signingKey] = await Promise.all([
    createTrustStore({ cas: o.cas, revokedSerials: o.revokedSerials, crlPems: o.crlPems }),
    createSigningKey({
      keyPem: o.signingKeyPem,
      certificatePem: o.signingCertificatePem,
      serviceAccount: o.issuedBy,
      now: o.now(),
    }),
  ]);
  const budget = createMemoryBudget(o.memoryBudgetBytes);
  const minter = createMinter({
    trust,
    signingKey,
    issuedBy: o.issuedBy,
    serviceVersion: o.serviceVersion,
    now: o.now,
    // A quarter of the budget at most, so calls in flight always have the rest.
    certificateCache: createCertificateCache(budget, Math.floor(o.memoryBudgetBytes / 4)),
  });
  const requests: RecordedRequest[] = [];
  const faults = createFaults(o.faults, o.random);
  const handler = createRequestHandler({
    minter,
    connect: createConnectService(minter, o.maxRequestBytes),
    faults,
    log: requests,
    requestTimeoutMs: o.requestTimeoutMs,
    logLimit: o.requestLogLimit,
    ...(o.onRequest && { onRequest: o.onRequest }),
    maxRequestBytes: o.maxRequestBytes,
    budget,
    now: o.now,
    certificates: {
      appId: o.serviceVersion.split("/")[0] ?? "",
      serviceAccount: o.issuedBy,
      keyId: signingKey.keyId,
      certificatePem: signingKey.certificatePem,
    },
  });

  const limits = { maxConnections: o.maxConnections, idleTimeoutMs: o.idleTimeoutMs };
  const h1: Server = createHttpServer(
    {
      headersTimeout: o.headersTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
      // Node closes idle keep-alive sockets itself and announces it in a Keep-Alive header.
      keepAliveTimeout: o.idleTimeoutMs,
      // How often node checks the two request timeouts (its default, 30 s, would let them slip).
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(o.headersTimeoutMs / 4))),
    },
    handler,
  );
  const h1Connections = guardHttp1Connections(h1, limits);
  const h1Port = await listen(h1, o.port, o.host);
  let h2: Http2Server | undefined;
  let h2Sessions: GuardedConnections | undefined;
  let h2Port: number | undefined;
  if (o.grpcPort !== false) {
    h2 = createHttp2Server({ settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS } }, handler);
    h2Sessions = guardHttp2Sessions(h2, limits);
    try {
      h2Port = await listen(h2, o.grpcPort, o.host);
    } catch (err) {
      await closeServer(h1);
      throw err;
    }
  }
  let google: GoogleFakes;
  try {
    google = await startGoogleFakes(options, o.host);
  } catch (err) {
    await Promise.all([closeServer(h1), h2 ? closeServer(h2) : undefined]);
    throw err;
  }
  let prodx: FakeProdx | undefined;
  if (options.prodx) {
    try {
      prodx = await startFakeProdx({ ...options.prodx, host: o.host });
    } catch (err) {
      await Promise.all([closeServer(h1), h2 ? closeServer(h2) : undefined, google.close()]);
      throw err;
    }
  }
  const hostPart = o.host.includes(":") ? `[${o.host}]` : o.host;
  const server: DevServer = {
    backend: `${hostPart}:${h1Port}`,
    url: `http://${hostPart}:${h1Port}`,
    requests,
    faults,
    signingCertificatePem: signingKey.certificatePem,
    signingKeyPem: signingKey.keyPem,
    keyId: signingKey.keyId,
    google,
    async close() {
      const closed = Promise.all([
        closeServer(h1),
        h2 ? closeServer(h2) : undefined,
        google.close(),
        prodx?.close(),
      ]);
      h1Connections.destroyAll();
      h2Sessions?.destroyAll();
      await closed;
    },
    openConnections: () => h1Connections.size + (h2Sessions?.size ?? 0),
    memoryInUse: () => budget.usedBytes,
  };
  if (prodx) server.prodx = prodx;
  if (h2Port !== undefined) {
    server.grpcBackend = `${hostPart}:${h2Port}`;
    server.grpcUrl = `http://${hostPart}:${h2Port}`;
  }
  return server;
}

function listen(server: Server | Http2Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server | Http2Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
