import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MachineTokenRequestSchema, TokenMinter } from "../gen/tokenserver/minter/token_minter_pb.js";
import { type MintTokenOptions, mintToken } from "../mint/mint-token.js";
import { MintTokenError } from "../mint/mint-token-error.js";
import { outcomeFromError } from "../mint/outcome-from-error.js";
import { createTokenMinterClient, type TokenMinterClientOptions } from "../mint/token-minter-client.js";
import { createX509Signer, type X509Signer } from "../mint/x509-signer.js";
import { createFakeClock } from "../testing/fake-clock.js";
import {
  type FakePrpcServer,
  mintedReply,
  type Reply,
  redirectReply,
  startFakePrpcServer,
} from "../testing/fake-prpc-server.js";
import { makeTestPki } from "../testing/pki.js";
import { recordingLogger } from "../testing/recording-logger.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { makeTlsCa } from "../testing/tls-fixtures.js";
import { MAX_REDIRECT_REQUESTS } from "./follow-redirects.js";

let server: FakePrpcServer;
/** HTTPS on 127.0.0.2, a backend Go and we reach over TLS, with its CA. */
let tlsServer: FakePrpcServer;
let caPem: string;
let signer: X509Signer;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;

beforeAll(async () => {
  const [identity, ca, dir] = await Promise.all([
    makeTestPki().then((pki) => pki.leaf),
    makeTlsCa(),
    makeTempDir(),
  ]);
  tmp = dir;
  caPem = ca.certPem;
  [server, tlsServer] = await Promise.all([
    startFakePrpcServer(),
    startFakePrpcServer({ tls: await ca.issue({ ip: ["127.0.0.2"] }), host: "127.0.0.2" }),
  ]);
  await writeFile(tmp.path("key.pem"), identity.pkcs1Pem);
  await writeFile(tmp.path("cert.pem"), identity.certPem);
  signer = await createX509Signer({ keyPath: tmp.path("key.pem"), certPath: tmp.path("cert.pem") });
});
afterEach(() => {
  server.reset();
  tlsServer.reset();
});
afterAll(async () => {
  await Promise.all([server.close(), tlsServer.close()]);
  await tmp.remove();
});

const inAnHour = () => new Date(Date.now() + 3_600_000);

/** Mints from `backend` with a fake clock for the retry delays (the calls themselves are real). */
function mint(
  backend: string,
  client: TokenMinterClientOptions = {},
  extra: Partial<MintTokenOptions> = {},
): Promise<Awaited<ReturnType<typeof mintToken>>> {
  const clock = createFakeClock(Date.now());
  return mintToken({
    client: createTokenMinterClient(backend, { env: {}, extraCaPems: [caPem], ...client }),
    signer,
    now: clock.now,
    sleep: clock.sleep,
    jitter: false,
    timeoutMs: 2000,
    ...extra,
  });
}

async function failure(p: Promise<unknown>): Promise<MintTokenError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MintTokenError);
  return err as MintTokenError;
}

/** Answers with `first(n)` while it gives a reply, then mints. */
const answer = (target: FakePrpcServer, first: (n: number) => Reply | undefined) =>
  target.respond((_req, n) => first(n) ?? mintedReply("token-1", inAnHour()));

describe("redirects from the token server, followed as Go's http.Client follows them", () => {
  it.each([307, 308])("%i: the same POST and body again, at the Location, then the token", async (status) => {
    answer(server, (n) => (n === 1 ? redirectReply(status, `${server.mintPath}?moved`) : undefined));
    expect((await mint(server.backend)).attempts).toBe(1);
    const [first, second] = server.requests;
    expect(second).toMatchObject({ method: "POST", url: `${server.mintPath}?moved`, body: first?.body });
    expect(second?.signatureValid).toBe(true);
    // As Go: the pRPC headers again, and the page that redirected as the Referer.
    expect(second?.headers).toMatchObject({
      "content-type": "application/prpc; encoding=binary",
      "x-prpc-max-response-size": "33521664",
      referer: `${server.baseUrl}${server.mintPath}`,
    });
    expect(server.requests).toHaveLength(2);
  });

  it.each([301, 302, 303])(
    "%i: a GET without body or Content-Type, which a pRPC server refuses (retried, as Go)",
    async (status) => {
      answer(server, (n) =>
        n === 1
          ? redirectReply(status, `${server.mintPath}?moved`)
          : n === 2
            ? { status: 405, headers: { "Content-Type": "text/plain" }, body: "Method Not Allowed\n" }
            : undefined,
      );
      expect((await mint(server.backend)).attempts).toBe(2);
      const get = server.requests[1];
      expect(get).toMatchObject({ method: "GET", url: `${server.mintPath}?moved` });
      expect(get?.body).toHaveLength(0);
      expect(get?.headers["content-type"]).toBeUndefined();
      expect(get?.headers["x-prpc-grpc-timeout"]).toBeDefined();
      expect(server.requests[2]?.method).toBe("POST");
    },
  );

  it(`follows a chain of ${MAX_REDIRECT_REQUESTS - 1} redirects, relative ones too`, async () => {
    answer(server, (n) => (n < MAX_REDIRECT_REQUESTS ? redirectReply(307, `hop-${n}`) : undefined));
    expect((await mint(server.backend)).attempts).toBe(1);
    expect(server.requests.map((r) => r.url)).toEqual([
      server.mintPath,
      ...Array.from(
        { length: MAX_REDIRECT_REQUESTS - 1 },
        (_, i) => `/prpc/tokenserver.minter.TokenMinter/hop-${i + 1}`,
      ),
    ]);
  });

  it(`stops at the ${MAX_REDIRECT_REQUESTS}th redirect, as Go: an error retried until the deadline`, async () => {
    server.respond((req) => redirectReply(307, `${server.mintPath}?${req.url.length}`));
    const logger = recordingLogger();
    const err = await failure(mint(server.backend, {}, { timeoutMs: 1000, logger }));
    expect(outcomeFromError(err)).toBe("GRPC_ERROR_4");
    expect(logger.at("warning")[0]).toMatch(
      /^RPC failed transiently \(retry in 200ms\): rpc error: code = Internal desc = failed to send request: stopped after 10 redirects \(the last to "http:\/\/127\.0\.0\.1:\d+\/prpc\/tokenserver\.minter\.TokenMinter\/MintMachineToken\?\d+"\)$/,
    );
    // Each attempt sent 10 requests, the first to the method's own path.
    const firsts = server.requests.flatMap((r, i) => (r.url === server.mintPath ? [i] : []));
    expect(firsts.length).toBeGreaterThan(1);
    expect(firsts[1]).toBe(MAX_REDIRECT_REQUESTS);
  });

  it("sends the body, not the credentials, to another origin (a page another server may serve)", async () => {
    // Routed and picked by URL: a call another test aborted may still reach the server.
    const other = `http://localhost:${new URL(server.baseUrl).port}`;
    server.respond((req) =>
      req.url === server.mintPath
        ? redirectReply(307, "?same")
        : req.url.endsWith("?same")
          ? redirectReply(308, `${other}/elsewhere`)
          : mintedReply("token-1", inAnHour()),
    );
    const addAuthorization: Interceptor = (next) => (req) => {
      req.header.set("Authorization", "Bearer secret");
      req.header.set("Cookie", "session=secret");
      return next(req);
    };
    await mint(server.backend, { interceptors: [addAuthorization] });
    const at = (url: string) => server.requests.find((r) => r.url === url);
    const [first, same, elsewhere] = [server.mintPath, `${server.mintPath}?same`, "/elsewhere"].map(at);
    expect(same?.headers.authorization).toBe("Bearer secret");
    expect(elsewhere?.headers).toMatchObject({
      host: new URL(other).host,
      referer: `${server.baseUrl}${server.mintPath}?same`,
    });
    expect(elsewhere?.headers.authorization).toBeUndefined();
    expect(elsewhere?.headers.cookie).toBeUndefined();
    expect(elsewhere?.body).toEqual(first?.body);
  });

  it("gives a 3xx without a Location, a 300 and a 304 to the client as they are (retried)", async () => {
    for (const reply of [
      { status: 307 },
      redirectReply(300, server.mintPath),
      redirectReply(304, server.mintPath),
    ]) {
      server.reset();
      answer(server, (n) => (n === 1 ? reply : undefined));
      expect((await mint(server.backend)).attempts).toBe(2);
      expect(server.requests.map((r) => r.url)).toEqual([server.mintPath, server.mintPath]);
    }
  });

  it("reports a Location that does not parse, and other schemes, in the attempt's error", async () => {
    for (const [location, text] of [
      ["http://[::1", 'failed to parse Location header "http://[::1"'],
      ["ftp://127.0.0.1/x", 'unsupported protocol scheme "ftp" in a redirect'],
    ]) {
      server.respond(() => redirectReply(307, location as string));
      const err = await failure(mint(server.backend, {}, { timeoutMs: 300 }));
      expect(err.message).toContain(
        `; last attempt: rpc error: code = Internal desc = failed to send request: ${text}`,
      );
    }
  });

  describe("plain HTTP only to loopback (the signed request in the body is worth a token)", () => {
    it("refuses a redirect from HTTPS to a plain-HTTP host that is not loopback, sending nothing there", async () => {
      tlsServer.respond(() => redirectReply(307, "http://192.0.2.1:9/prpc/x"));
      const err = await failure(mint(tlsServer.backend, {}, { timeoutMs: 300 }));
      expect(outcomeFromError(err)).toBe("GRPC_ERROR_4");
      expect(err.message).toContain(
        `refused to follow a redirect from ${tlsServer.baseUrl} to plain HTTP ("http://192.0.2.1:9"): plain HTTP is only used for loopback hosts`,
      );
    });

    it("refuses one from a loopback backend too", async () => {
      server.respond(() => redirectReply(302, "http://192.0.2.1:9/"));
      const err = await failure(mint(server.backend, {}, { timeoutMs: 300 }));
      expect(err.message).toContain("refused to follow a redirect from http://127.0.0.1:");
    });

    it("follows HTTPS to plain-HTTP loopback, without a Referer (as Go)", async () => {
      tlsServer.respond(() => redirectReply(307, `${server.baseUrl}${server.mintPath}?from-tls`));
      answer(server, () => undefined);
      await mint(tlsServer.backend);
      const followed = server.requests.filter((r) => r.url.endsWith("?from-tls"));
      expect(followed).toHaveLength(1);
      expect(followed[0]?.headers.referer).toBeUndefined();
      expect(followed[0]?.signatureValid).toBe(true);
    });

    it("follows a loopback backend to HTTPS, checked with the trust roots (read then)", async () => {
      server.respond(() => redirectReply(308, `${tlsServer.baseUrl}${tlsServer.mintPath}`));
      answer(tlsServer, () => undefined);
      expect((await mint(server.backend)).token).toBe("token-1");
      expect(tlsServer.requests[0]?.headers.referer).toBe(`${server.baseUrl}${server.mintPath}`);
      // Without the CA, the hop to HTTPS fails like any untrusted server (retried).
      const err = await failure(mint(server.backend, { extraCaPems: [] }, { timeoutMs: 300 }));
      expect(err.message).toMatch(/last attempt: .*certificate/);
    });
  });

  it("keeps every hop within the call's deadline", async () => {
    server.respond((_req, n) =>
      n === 1 ? redirectReply(307, "?slow") : { ...mintedReply(), delayMs: 60_000 },
    );
    const started = performance.now();
    const err = await failure(mint(server.backend, {}, { timeoutMs: 500, now: () => new Date() }));
    expect(outcomeFromError(err)).toBe("GRPC_ERROR_4");
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe("the Connect protocol follows redirects the same way", () => {
  let front: Server;
  let backend: string;
  beforeAll(async () => {
    const handler = connectNodeAdapter({
      routes: (router) =>
        router.service(TokenMinter, {
          mintMachineToken(request) {
            fromBinary(MachineTokenRequestSchema, request.serializedTokenRequest);
            return {
              tokenResponse: {
                serviceVersion: "connect/1",
                tokenType: {
                  case: "luciMachineToken",
                  value: { machineToken: "moved-token", expiry: timestampFromDate(inAnHour()) },
                },
              },
            };
          },
        }),
    });
    // The first call is sent on with a 307 to the same path under /v2; that path is served.
    front = createServer((req, res) => {
      if (req.url?.startsWith("/v2/")) {
        req.url = req.url.slice(3);
        return handler(req, res);
      }
      req.resume();
      res.writeHead(307, { Location: `/v2${req.url}` }).end();
    });
    await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
    backend = `127.0.0.1:${(front.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    front.closeAllConnections();
    await new Promise<void>((resolve) => front.close(() => resolve()));
  });

  it.each(["connect", "grpc-web"] as const)("%s", async (protocol) => {
    expect((await mint(backend, { protocol })).token).toBe("moved-token");
  });
});
