import { verify, X509Certificate } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type MachineTokenRequest,
  MachineTokenRequestSchema,
  TokenMinter,
} from "../gen/tokenserver/minter/token_minter_pb.js";
import { resolveBackendTarget } from "../net/backend-target.js";
import { backendBaseUrl } from "../net/backend-url.js";
import { createFakeClock } from "../testing/fake-clock.js";
import { makeTestPki } from "../testing/pki.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { mintToken } from "./mint-token.js";
import { outcomeFromError } from "./outcome-from-error.js";
import { PROTOCOLS } from "./protocols.js";
import { createTokenMinterClient } from "./token-minter-client.js";
import { createTokenMinterTransport } from "./token-minter-transport.js";
import { createX509Signer, type X509Signer } from "./x509-signer.js";

describe("backendBaseUrl", () => {
  it.each([
    ["localhost:8080", "http://localhost:8080"],
    ["127.0.0.1:9000", "http://127.0.0.1:9000"],
    ["[::1]:9000", "http://[::1]:9000"],
    ["luci-token-server.appspot.com", "https://luci-token-server.appspot.com"],
    ["luci-token-server.appspot.com:443", "https://luci-token-server.appspot.com:443"],
    ["localhost", "https://localhost"],
    ["127.0.0.1", "https://127.0.0.1"],
    ["localhost.example.com:80", "https://localhost.example.com:80"],
    ["127.0.0.10:80", "https://127.0.0.10:80"],
  ])("%s → %s", (backend, url) => {
    expect(backendBaseUrl(backend)).toBe(url);
  });

  it.each([
    "",
    "https://luci-token-server.appspot.com",
    "http://localhost:8080",
    "host/path",
    "host:80/prpc",
    "user@host",
    "host?x=1",
    "host name",
    "host:notaport",
  ])("refuses %j", (backend) => {
    expect(() => backendBaseUrl(backend)).toThrow(/-backend/);
  });

  it("makes a transport for every protocol and refuses bad backends there too", () => {
    for (const protocol of PROTOCOLS) {
      expect(createTokenMinterTransport(resolveBackendTarget("127.0.0.1:1"), { protocol })).toBeDefined();
    }
    expect(() => createTokenMinterClient("https://x")).toThrow(/-backend/);
  });
});

describe("createTokenMinterClient over the Connect protocol", () => {
  let server: Server;
  let backend: string;
  let signer: X509Signer;
  const received: Array<{ inner: MachineTokenRequest; signatureValid: boolean; contentType?: string }> = [];
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;

  beforeAll(async () => {
    const [identity, dir] = await Promise.all([makeTestPki().then((pki) => pki.leaf), makeTempDir()]);
    tmp = dir;
    await writeFile(tmp.path("key.pem"), identity.pkcs8Pem);
    await writeFile(tmp.path("cert.pem"), identity.certPem);
    signer = await createX509Signer({ keyPath: tmp.path("key.pem"), certPath: tmp.path("cert.pem") });
    const handler = connectNodeAdapter({
      routes: (router) =>
        router.service(TokenMinter, {
          mintMachineToken(request, context) {
            const inner = fromBinary(MachineTokenRequestSchema, request.serializedTokenRequest);
            const signatureValid = verify(
              "sha256",
              request.serializedTokenRequest,
              new X509Certificate(inner.certificate).publicKey,
              request.signature,
            );
            received.push({
              inner,
              signatureValid,
              contentType: context.requestHeader.get("content-type") ?? "",
            });
            if (!signatureValid) return { errorCode: 5, errorMessage: "signature verification failed" };
            return {
              serviceVersion: "connect-test/v1",
              tokenResponse: {
                serviceVersion: "connect-test/v1",
                tokenType: {
                  case: "luciMachineToken",
                  value: {
                    machineToken: "connect-token",
                    expiry: timestampFromDate(new Date(1422939906_000)),
                  },
                },
              },
            };
          },
        }),
    });
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    backend = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await tmp.remove();
  });

  it("mints with the same client code", async () => {
    const clock = createFakeClock();
    const minted = await mintToken({
      client: createTokenMinterClient(backend, { protocol: "connect" }),
      signer,
      now: clock.now,
      sleep: clock.sleep,
      timeoutMs: 5000,
    });
    expect(minted).toEqual({
      token: "connect-token",
      expiry: new Date(1422939906_000),
      serviceVersion: "connect-test/v1",
      attempts: 1,
    });
    expect(received).toHaveLength(1);
    expect(received[0]?.signatureValid).toBe(true);
    expect(received[0]?.inner.issuedAt?.nanos).toBe(500_000_000);
    expect(received[0]?.contentType).toBe("application/proto");
  });

  it("the pRPC client against a Connect-only server fails without retrying forever", async () => {
    const clock = createFakeClock();
    const err = await mintToken({
      client: createTokenMinterClient(backend),
      signer,
      now: clock.now,
      sleep: clock.sleep,
      jitter: false,
      timeoutMs: 1000,
    }).catch((e: unknown) => e);
    // The Connect server has no /prpc/ route: a 404 without X-Prpc-Grpc-Code, retried until the deadline.
    expect(outcomeFromError(err)).toBe("GRPC_ERROR_4");
  });
});
