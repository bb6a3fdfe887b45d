import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createTestPki, type DevServer, startDevServer } from "@luci-machine-tokend/dev-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TokenMinter } from "../gen/tokenserver/minter/token_minter_pb.js";
import { mintToken } from "../mint/mint-token.js";
import { createTokenMinterClient } from "../mint/token-minter-client.js";
import { createX509Signer } from "../mint/x509-signer.js";
import { type LuciService, startLuciService } from "../testing/luci-service.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { calcDigest, tokendDigestInputs } from "../token-file/calc-digest.js";
import { mintedTokenFile } from "../token-file/minted-token-file.js";
import { writeTokenFile } from "../token-file/write-token-file.js";
import { MACHINE_TOKEN_HEADER, machineTokenInterceptor } from "./machine-token-interceptor.js";
import { createMachineTokenSource, MachineTokenSourceError } from "./machine-token-source.js";
import { withMachineToken } from "./with-machine-token.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let server: DevServer;
let service: LuciService;
let tokenFile: string;

// A token file minted by the dev server as a tokend makes it, and a service that checks tokens.
beforeAll(async () => {
  tmp = await makeTempDir();
  const pki = await createTestPki({ fqdn: "bot-1.example.com" });
  server = await startDevServer({
    caCertificates: [pki.caCertPem],
    domains: [{ domain: "example.com", lifetimeMs: 3_600_000 }],
    grpcPort: false,
  });
  service = await startLuciService(`${server.url}/auth/api/v1/server/certificates`);
  await writeFile(tmp.path("cert.pem"), pki.certPem);
  await writeFile(tmp.path("key.pem"), pki.keyPem);
  const signer = await createX509Signer({ certPath: tmp.path("cert.pem"), keyPath: tmp.path("key.pem") });
  const minted = await mintToken({ client: createTokenMinterClient(server.backend), signer });
  const digest = calcDigest(tokendDigestInputs({ backend: server.backend, ...signer }));
  const { token, state } = mintedTokenFile(minted, new Date(), digest);
  tokenFile = tmp.path("token.json");
  await writeTokenFile(tokenFile, token, state);
});
afterAll(async () => {
  await service?.close();
  await server?.close();
  await tmp?.remove();
});

const rpcClient = (file: string) =>
  createClient(
    TokenMinter,
    createConnectTransport({
      baseUrl: service.url,
      httpVersion: "1.1",
      interceptors: [machineTokenInterceptor(createMachineTokenSource({ tokenFile: file }))],
    }),
  );

describe("machineTokenInterceptor", () => {
  it("authenticates a Connect call: the service verifies the header against the token server's certificate", async () => {
    const before = service.calls.length;
    const reply = await rpcClient(tokenFile).mintMachineToken({});
    expect(reply.serviceVersion).toBe("bot:bot-1.example.com");
    expect(service.calls.slice(before)).toEqual([{ path: "rpc", identity: "bot:bot-1.example.com" }]);
  });

  it("does not send the call when there is no token; the error is the source's", async () => {
    const before = service.calls.length;
    const missing = tmp.path("missing.json");
    const err = await rpcClient(missing)
      .mintMachineToken({})
      .then(
        () => expect.unreachable("sent"),
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ConnectError);
    const connectError = err as ConnectError;
    expect(connectError.code).toBe(Code.Unauthenticated);
    expect(connectError.rawMessage).toBe(
      `token file ${missing}: no such file (has a tokend written it yet?)`,
    );
    expect(connectError.cause).toBeInstanceOf(MachineTokenSourceError);
    expect(service.calls.length).toBe(before);
  });

  it("does not send the token over plain HTTP to another machine", async () => {
    const client = createClient(
      TokenMinter,
      createConnectTransport({
        baseUrl: "http://192.0.2.1:8080",
        httpVersion: "1.1",
        interceptors: [machineTokenInterceptor(createMachineTokenSource({ tokenFile }))],
      }),
    );
    await expect(client.mintMachineToken({})).rejects.toMatchObject({
      code: Code.Unauthenticated,
      rawMessage:
        "not sending the machine token to http://192.0.2.1:8080: only https URLs (or http to localhost) may carry it",
    });
  });

  it("is what the service needs: without the interceptor the call is refused", async () => {
    const bare = createClient(
      TokenMinter,
      createConnectTransport({ baseUrl: service.url, httpVersion: "1.1" }),
    );
    await expect(bare.mintMachineToken({})).rejects.toMatchObject({ code: Code.Unauthenticated });
    expect(service.calls.at(-1)).toEqual({ path: "rpc", refused: "no X-Luci-Machine-Token header" });
  });
});

describe("withMachineToken", () => {
  const source = () => createMachineTokenSource({ tokenFile });

  it("sets the header on fetch requests, replacing a caller's value and keeping other headers", async () => {
    const seen: Headers[] = [];
    const recording: typeof fetch = async (input, init) => {
      seen.push(new Headers(init?.headers));
      return fetch(input, init);
    };
    const luciFetch = withMachineToken(source(), recording);
    const res = await luciFetch(`${service.url}/whoami`, {
      headers: { [MACHINE_TOKEN_HEADER]: "forged", "X-Other": "kept" },
    });
    expect([res.status, await res.text()]).toEqual([200, "bot:bot-1.example.com"]);
    const fromRequest = await luciFetch(
      new Request(`${service.url}/whoami`, { headers: { "X-Other": "req" } }),
    );
    expect(await fromRequest.text()).toBe("bot:bot-1.example.com");
    const token = JSON.parse(await readFile(tokenFile, "utf8")).luci_machine_token;
    expect(seen.map((h) => [h.get(MACHINE_TOKEN_HEADER) === token, h.get("X-Other")])).toEqual([
      [true, "kept"],
      [true, "req"],
    ]);
  });

  it("refuses URLs that are neither https nor loopback http, before reading the token", async () => {
    let reads = 0;
    let sent = 0;
    const counting = {
      getToken: () => {
        reads++;
        return source().getToken();
      },
    };
    const luciFetch = withMachineToken(counting, async () => {
      sent++;
      return new Response("x");
    });
    // A name under .localhost may resolve through DNS, off this machine: only localhost itself.
    for (const url of [
      "http://example.com/api",
      "http://10.0.0.1:8080/",
      "ftp://localhost/",
      "http://x.localhost:1/",
    ]) {
      await expect(luciFetch(url)).rejects.toThrow(
        /^not sending the machine token to \S+: only https URLs \(or http to localhost\) may carry it$/,
      );
    }
    expect([reads, sent]).toEqual([0, 0]);
    for (const url of [
      "https://example.com/",
      "http://localhost:1/",
      "http://127.0.0.2/",
      "http://[::1]:1/",
    ]) {
      await luciFetch(url);
    }
    expect([reads, sent]).toEqual([4, 4]);
  });

  describe("redirects", () => {
    const token = () => readFile(tokenFile, "utf8").then((t) => JSON.parse(t).luci_machine_token as string);
    /** A server that records what reached it and redirects `?to=<url>` (or `?self`: to itself) with `?status=` (default 302). */
    const startRecorder = async () => {
      const seen: Array<{ path: string; method: string; token?: string; body: string; type?: string }> = [];
      const server = createServer((req, res) => {
        let body = "";
        req.on("data", (d: Buffer) => {
          body += d;
        });
        req.on("end", () => {
          const url = new URL(req.url ?? "/", "http://x");
          const raw = req.headers["x-luci-machine-token"];
          seen.push({
            path: url.pathname,
            method: req.method ?? "",
            body,
            ...(typeof raw === "string" && { token: raw }),
            ...(req.headers["content-type"] && { type: req.headers["content-type"] }),
          });
          const to = url.searchParams.has("self") ? (req.url ?? "") : url.searchParams.get("to");
          if (to === null) return res.end("final");
          res.writeHead(Number(url.searchParams.get("status") ?? 302), { Location: to }).end();
        });
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return { seen, base, close: () => new Promise((r) => server.close(r)) };
    };
    let service: Awaited<ReturnType<typeof startRecorder>>;
    let evil: Awaited<ReturnType<typeof startRecorder>>;
    beforeAll(async () => {
      [service, evil] = await Promise.all([startRecorder(), startRecorder()]);
    });
    afterAll(() => Promise.all([service.close(), evil.close()]));
    beforeEach(() => {
      service.seen.length = 0;
      evil.seen.length = 0;
    });

    it("does not follow a redirect to another origin: the 3xx comes back and the other host gets nothing", async () => {
      const luciFetch = withMachineToken(source());
      // Another port of the same host is another origin; so would be https → http.
      for (const to of [`${evil.base}/steal`, `http://localhost:${new URL(evil.base).port}/steal`]) {
        const res = await luciFetch(`${service.base}/api?to=${encodeURIComponent(to)}`);
        expect([res.status, res.headers.get("Location")]).toEqual([302, to]);
      }
      expect(evil.seen).toEqual([]);
      expect(service.seen.map((s) => s.token === undefined)).toEqual([false, false]);
    });

    it("follows redirects within the origin with the token, as fetch would (303 → GET, 307 keeps the body)", async () => {
      const luciFetch = withMachineToken(source());
      const hop = (to: string, status: number) => `/hop?status=${status}&to=${encodeURIComponent(to)}`;
      const post = { method: "POST", body: "payload", headers: { "Content-Type": "text/plain" } };
      const seeOther = await luciFetch(`${service.base}${hop(hop("/final", 303), 307)}`, post);
      expect([seeOther.status, await seeOther.text(), seeOther.url]).toEqual([
        200,
        "final",
        `${service.base}/final`,
      ]);
      const t = await token();
      expect(service.seen).toEqual([
        { path: "/hop", method: "POST", token: t, body: "payload", type: "text/plain" },
        { path: "/hop", method: "POST", token: t, body: "payload", type: "text/plain" },
        { path: "/final", method: "GET", token: t, body: "" },
      ]);
      await expect(luciFetch(`${service.base}/loop?self`)).rejects.toThrow(
        /^more than 20 redirects from http:\/\/127\.0\.0\.1:\d+$/,
      );
    });

    it('honours redirect: "manual" and "error"', async () => {
      const luciFetch = withMachineToken(source());
      const url = `${service.base}/api?to=/final`;
      expect((await luciFetch(url, { redirect: "manual" })).status).toBe(302);
      await expect(luciFetch(new Request(url, { redirect: "error" }))).rejects.toThrow(
        'redirected to /final (redirect: "error")',
      );
      expect(service.seen.map((s) => s.path)).toEqual(["/api", "/api"]);
    });
  });

  it("rejects with the source's error and sends nothing when there is no token", async () => {
    const before = service.calls.length;
    const luciFetch = withMachineToken(createMachineTokenSource({ tokenFile: tmp.path("none.json") }));
    await expect(luciFetch(`${service.url}/whoami`)).rejects.toMatchObject({
      name: "MachineTokenSourceError",
      problem: "missing",
    });
    expect(service.calls.length).toBe(before);
  });
});
