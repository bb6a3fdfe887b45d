import { readFile, writeFile } from "node:fs/promises";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createTestPki, type DevServer, startDevServer } from "@luci-machine-tokend/dev-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calcDigest, tokendDigestInputs } from "../calc-digest.js";
import { TokenMinter } from "../gen/tokenserver/minter/token_minter_pb.js";
import { mintToken } from "../mint-token.js";
import { mintedTokenFile } from "../minted-token-file.js";
import { type LuciService, startLuciService } from "../testing/luci-service.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { createTokenMinterClient } from "../token-minter-client.js";
import { writeTokenFile } from "../write-token-file.js";
import { createX509Signer } from "../x509-signer.js";
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
