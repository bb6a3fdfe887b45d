import { writeFile } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import {
  type FakePrpcServer,
  mintedReply,
  type Reply,
  redirectReply,
  startFakePrpcServer,
} from "../../../../core/src/testing/fake-prpc-server.js";
import { makeTlsCa } from "../../../../core/src/testing/tls-fixtures.js";
import { type DiffWorkspace, expectSame, type KeptDifference, runBoth } from "../../testing/differential.js";
import type { DiffContext } from "./context.js";

const inAnHour = () => new Date(Date.now() + 3_600_000);

/** This machine's first IPv4 address that is not loopback, if it has one. */
function lanAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a?.family === "IPv4" && !a.internal)?.address;
}

/** Redirects from the token server: Go's http.Client follows them, and so do we (docs/MIGRATING-FROM-GO.md). */
export function redirectScenarios(suite: { ctx: DiffContext; ws: DiffWorkspace }): void {
  const lan = lanAddress();
  /** HTTPS on 127.0.0.2 (Go and we use TLS for it), and plain HTTP on the LAN address. */
  let tls: FakePrpcServer;
  let onLan: FakePrpcServer | undefined;
  let caPem: string;
  beforeAll(async () => {
    const ca = await makeTlsCa("Differential redirect CA");
    caPem = ca.certPem;
    [tls, onLan] = await Promise.all([
      startFakePrpcServer({ tls: await ca.issue({ ip: ["127.0.0.2"] }), host: "127.0.0.2" }),
      lan ? startFakePrpcServer({ host: lan }) : undefined,
    ]);
  });
  afterAll(() => Promise.all([tls?.close(), onLan?.close()]));

  /**
   * Runs both against `first` (the raw server unless named), which answers with `answer(n)` while
   * that gives a reply and mints after; the others mint; every server's requests count as calls.
   */
  const run = async (
    answer: (url: string, n: number) => Reply | undefined,
    options: { first?: FakePrpcServer; timeout?: string; kept?: Record<string, KeptDifference> } = {},
  ) => {
    const { ctx, ws } = suite;
    const first = options.first ?? ctx.raw;
    const servers = [ctx.raw, tls, onLan].filter((s): s is FakePrpcServer => s !== undefined);
    // Every server mints an hour's token: the fake's default expiry lies in 2015, and a lifetime
    // that far off depends on the second each side ran in (the schedule is compared to 10 s).
    for (const s of servers) s.respond(() => mintedReply("token-1", inAnHour()));
    first.respond((req, n) => answer(req.url, n) ?? mintedReply("token-1", inAnHour()));
    const bundle = join(ws.root, "redirect-ca.pem");
    await writeFile(bundle, caPem);
    const result = await runBoth(
      ws,
      (impl) => [...ws.args(impl, first.backend), "-timeout", options.timeout ?? "5s"],
      {
        serverCalls: () => servers.reduce((n, s) => n + s.requests.length, 0),
        env: { SSL_CERT_FILE: bundle, SSL_CERT_DIR: "", NODE_EXTRA_CA_CERTS: "" },
        before: () => {
          for (const s of servers) s.requests.length = 0;
        },
      },
    );
    expectSame(result, options.kept);
  };

  describe("redirects from the token server (Go's http.Client follows them)", () => {
    it("a 307 to the same server: the POST again, a token", () =>
      run((url) => (url.endsWith("?moved") ? undefined : redirectReply(307, `${url}?moved`))));
    it("a 308 to the same server: the POST again, a token", () =>
      run((url) => (url.endsWith("?moved") ? undefined : redirectReply(308, `${url}?moved`))));
    it("a chain of 9 redirects, relative ones among them", () =>
      run((url) => {
        const hop = Number(/hop-(\d)$/.exec(url)?.[1] ?? 0);
        return hop < 9 ? redirectReply(307, `hop-${hop + 1}`) : undefined;
      }));
    it("too many redirects (a loop): retried until -timeout", () =>
      run((url) => redirectReply(307, url.endsWith("?b") ? "?a" : "?b"), { timeout: "1s" }));
    it("a 302 to a page that is not pRPC: a GET, then retried until -timeout", () =>
      run(
        (url) =>
          url.startsWith("/prpc/")
            ? redirectReply(302, "/maintenance.html")
            : { status: 200, headers: { "Content-Type": "text/html" }, body: "<html>Back soon</html>" },
        { timeout: "1s" },
      ));
    it("a 307 to a page that is not there (404)", () =>
      run(
        (url) =>
          url.startsWith("/prpc/")
            ? redirectReply(307, "/gone")
            : { status: 404, headers: { "Content-Type": "text/plain" }, body: "404 page not found\n" },
        { timeout: "1s" },
      ));
    it("a 307 without a Location: the answer itself (no pRPC code: retried)", () =>
      run(() => ({ status: 307 }), { timeout: "1s" }));
    it("a 307 to another host name of the same server (localhost)", () =>
      run((url) =>
        url.endsWith("?moved")
          ? undefined
          : redirectReply(307, `http://localhost:${suite.ctx.raw.backend.split(":")[1]}${url}?moved`),
      ));
    it("a 307 from HTTPS to plain HTTP on loopback", () =>
      run(() => redirectReply(307, `${suite.ctx.raw.baseUrl}${suite.ctx.raw.mintPath}`), { first: tls }));
    it("a 308 from plain HTTP on loopback to HTTPS", () => {
      tls.respond(() => mintedReply("token-1", inAnHour()));
      return run(() => redirectReply(308, `${tls.baseUrl}${tls.mintPath}`));
    });
    it.skipIf(lan === undefined)(
      "a 307 from HTTPS to plain HTTP on another host: Go follows it, we refuse (retried until -timeout)",
      () => {
        onLan?.respond(() => mintedReply("token-1", inAnHour()));
        return run(() => redirectReply(307, `${onLan?.baseUrl}${onLan?.mintPath}`), {
          first: tls,
          timeout: "1s",
          kept: {
            exitCode: { go: 0, ts: 1 },
            "status/update_outcome": { go: "UPDATE_SUCCESS", ts: "GRPC_ERROR_4" },
            status: "follows",
            tokens: "follows",
            files: "follows",
          },
        });
      },
    );
  });
}
