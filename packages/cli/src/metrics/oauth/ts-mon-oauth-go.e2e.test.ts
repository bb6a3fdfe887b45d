import { readFile, writeFile } from "node:fs/promises";
import { createSecureServer, type Http2SecureServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  createServiceAccountKey,
  type FakeGceMetadata,
  type FakeOAuthServer,
  startFakeGceMetadata,
  startFakeOAuthServer,
  type TestServiceAccountKey,
} from "@luci-machine-tokend/dev-server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir } from "../../../../core/src/testing/temp-dir.js";
import { makeTlsCa } from "../../../../core/src/testing/tls-fixtures.js";
import { GO_TOKEND, GO_TOKEND_SKIP_REASON } from "../../testing/go-tokend.js";
import { runProgram } from "../../testing/run-cli.js";
import { secretsDir } from "./disk-token-cache.js";
import { createTsMonAuthenticator } from "./ts-mon-authenticator.js";

// The Go binary pushes its metrics to a gRPC-over-TLS stand-in for ProdX (any call: grpc-status
// 0) with a token from the fake OAuth endpoint its key names; ours runs in-process in the same HOME.
if (GO_TOKEND === undefined) console.log(GO_TOKEND_SKIP_REASON);

describe.skipIf(GO_TOKEND === undefined)("ts-mon OAuth against the Go luci_machine_tokend", () => {
  let ca: Awaited<ReturnType<typeof makeTlsCa>>;
  let caFile: string;
  let oauth: FakeOAuthServer;
  let gce: FakeGceMetadata;
  let prodx: { url: string; authorizations: string[]; close(): Promise<void> };
  let sa: TestServiceAccountKey;
  let shared: Awaited<ReturnType<typeof makeTempDir>>;
  let home: Awaited<ReturnType<typeof makeTempDir>>;
  let keyPath: string;

  beforeAll(async () => {
    shared = await makeTempDir();
    ca = await makeTlsCa();
    caFile = shared.path("ca.pem");
    await writeFile(caFile, ca.certPem);
    const identity = await ca.issue({ ip: ["127.0.0.1"] });
    oauth = await startFakeOAuthServer({ tls: identity });
    gce = await startFakeGceMetadata();
    prodx = await startGrpcOk(identity);
    sa = createServiceAccountKey({ tokenUri: oauth.tokenUri });
    oauth.addServiceAccount(sa.email, sa.publicKeyPem);
    keyPath = shared.path("sa.json");
    await writeFile(keyPath, sa.json);
  });
  afterAll(async () => {
    await Promise.all([oauth.close(), gce.close(), prodx.close()]);
    await shared.remove();
  });
  beforeEach(async () => {
    home = await makeTempDir();
    for (const list of [oauth.requests, oauth.grants, gce.requests, prodx.authorizations]) list.length = 0;
  });
  afterEach(() => home.remove());

  const env = () => ({
    HOME: home.dir,
    SSL_CERT_FILE: caFile,
    HTTPS_PROXY: "",
    https_proxy: "",
    NO_PROXY: "",
  });

  async function runGo(credentials: string, extraEnv: Record<string, string> = {}) {
    const args = [
      ...["-backend", "127.0.0.1:1", "-pkey-pem", home.path("none.pem"), "-cert-pem", home.path("none.pem")],
      ...["-token-file", home.path("token.json"), "-ts-mon-config-file", home.path("none.json")],
      ...["-ts-mon-endpoint", `${prodx.url}/v1:insert`, "-ts-mon-credentials", credentials],
    ];
    const result = await runProgram([GO_TOKEND ?? ""], args, { env: { ...env(), ...extraEnv } });
    expect(result.stderr).not.toMatch(/Failed to (send|initialize) tsmon/);
    return result;
  }

  async function ours(credentials: string, extraEnv: Record<string, string> = {}) {
    const auth = createTsMonAuthenticator({ credentials, actAs: "" }, { env: { ...env(), ...extraEnv } });
    await auth.init(AbortSignal.timeout(10_000));
    return auth.authorization(AbortSignal.timeout(10_000));
  }

  it("ours uses the token Go cached", async () => {
    await runGo(keyPath);
    expect(oauth.grants).toHaveLength(1);
    const goHeader = prodx.authorizations[0];
    expect(goHeader).toBe(`Bearer ${oauth.grants[0]?.accessToken}`);
    expect(await ours(keyPath)).toBe(goHeader);
    expect(oauth.grants).toHaveLength(1);
  });

  it("Go uses the token ours cached", async () => {
    const header = await ours(keyPath);
    expect(oauth.grants).toHaveLength(1);
    await runGo(keyPath);
    expect(prodx.authorizations).toEqual([header]);
    expect(oauth.grants).toHaveLength(1);
    // And Go, rewriting nothing, leaves ours readable by ours.
    expect(JSON.parse(await readFile(join(secretsDir(home.dir), "tokens.json"), "utf8")).cache).toHaveLength(
      1,
    );
  });

  it("the same JWT bearer grant: header, claims (times masked), form and content type", async () => {
    await runGo(keyPath);
    await home.remove();
    await ours(keyPath);
    const [go, ts] = oauth.requests;
    const decode = (body: string) => {
      const form = new URLSearchParams(body);
      const [h, c] = (form.get("assertion") ?? "").split(".");
      const claims = JSON.parse(Buffer.from(c ?? "", "base64url").toString());
      return {
        keys: [...form.keys()],
        header: Buffer.from(h ?? "", "base64url").toString(),
        claimKeys: Object.keys(claims),
        claims: { ...claims, iat: "masked", exp: "masked" },
        lifetime: claims.exp - claims.iat,
        grantType: form.get("grant_type"),
      };
    };
    expect(decode(ts?.body ?? "")).toEqual(decode(go?.body ?? ""));
    expect(ts?.headers["content-type"]).toBe(go?.headers["content-type"]);
    expect(ts?.method).toBe(go?.method);
    expect(ts?.url).toBe(go?.url);
  });

  it(":gce: the same metadata requests, and no disk cache either", async () => {
    await runGo(":gce", { GCE_METADATA_HOST: gce.hostPort });
    const goCalls = gce.requests.map((r) => [r.method, r.url, r.headers["metadata-flavor"]]);
    expect(prodx.authorizations[0]).toBe(`Bearer ${gce.tokens[0]}`);
    gce.requests.length = 0;
    expect(await ours(":gce", { GCE_METADATA_HOST: gce.hostPort })).toBe(`Bearer ${gce.tokens[1]}`);
    expect(gce.requests.map((r) => [r.method, r.url, r.headers["metadata-flavor"]])).toEqual(goCalls);
  });
});

/** An HTTP/2 TLS server answering every gRPC call with an empty message and grpc-status 0. */
async function startGrpcOk(identity: { certPem: string; keyPem: string }) {
  const authorizations: string[] = [];
  const server: Http2SecureServer = createSecureServer(
    { cert: identity.certPem, key: identity.keyPem },
    (req, res) => {
      authorizations.push(String(req.headers.authorization ?? ""));
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/grpc" });
        res.addTrailers({ "grpc-status": "0" });
        res.end(Buffer.from([0, 0, 0, 0, 0]));
      });
    },
  );
  const sessions = new Set<import("node:http2").ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}
