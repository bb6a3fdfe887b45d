import { writeFile } from "node:fs/promises";
import {
  createServiceAccountKey,
  type FakeGceMetadata,
  type FakeIamCredentials,
  type FakeOAuthServer,
  type FakeProdx,
  type GoogleFakeRequest,
  startFakeGceMetadata,
  startFakeIamCredentials,
  startFakeOAuthServer,
  startFakeProdx,
  type TestServiceAccountKey,
} from "@luci-machine-tokend/dev-server";
import { startConnectProxy, type TestConnectProxy } from "../../../core/src/testing/connect-proxy.js";
import { makeTempDir } from "../../../core/src/testing/temp-dir.js";
import { makeTlsCa } from "../../../core/src/testing/tls-fixtures.js";

/** The account `-ts-mon-act-as` may act as at the fake IAM; others get its 403. */
export const ACT_AS = "tsmon-writer@fake-project.iam.gserviceaccount.com";

/** Where luci-go (and so the Go binary) always sends generateAccessToken. */
export const IAM_HOST_PORT = "iamcredentials.googleapis.com:443";

/**
 * Loopback stand-ins for every Google service a ts-mon push talks to, for a CLI run in a child
 * process (ours or the Go binary), which reaches them as it would reach Google:
 * - ProdX (gRPC over TLS) and the OAuth token endpoint (https) with a test CA: the run's
 *   SSL_CERT_FILE is {@link caFile};
 * - the token endpoint named by the service-account key's `token_uri` ({@link keyFile});
 * - a GCE metadata server for GCE_METADATA_HOST;
 * - IAM Credentials at its fixed name, reached through HTTPS_PROXY={@link proxy} (a CONNECT proxy
 *   that routes `iamcredentials.googleapis.com:443` to the fake), with a certificate for that name.
 */
export interface GoogleStandIns {
  caFile: string;
  keyFile: string;
  key: TestServiceAccountKey;
  prodx: FakeProdx;
  oauth: FakeOAuthServer;
  gce: FakeGceMetadata;
  iam: FakeIamCredentials;
  proxy: TestConnectProxy;
  /** Forgets what each received and their fault answers. */
  reset(): void;
  close(): Promise<void>;
}

/** Starts the stand-ins (see {@link GoogleStandIns}); files go to a temp dir removed on close. */
export async function startGoogleStandIns(): Promise<GoogleStandIns> {
  const dir = await makeTempDir();
  const ca = await makeTlsCa("ts-mon Google stand-ins CA");
  const caFile = dir.path("ca.pem");
  await writeFile(caFile, ca.certPem);
  const identity = await ca.issue({ ip: ["127.0.0.1"], dns: [IAM_HOST_PORT.split(":")[0] ?? ""] });
  const [prodx, oauth, gce] = await Promise.all([
    startFakeProdx({ tls: identity }),
    startFakeOAuthServer({ tls: identity }),
    startFakeGceMetadata(),
  ]);
  const iam = await startFakeIamCredentials({
    tls: identity,
    accounts: [ACT_AS],
    acceptBaseToken: (t) => oauth.issued(t) || gce.issued(t),
  });
  const proxy = await startConnectProxy(undefined, { [IAM_HOST_PORT]: Number(new URL(iam.url).port) });
  const key = createServiceAccountKey({ tokenUri: oauth.tokenUri });
  oauth.addServiceAccount(key.email, key.publicKeyPem);
  const keyFile = dir.path("service-account.json");
  await writeFile(keyFile, key.json, { mode: 0o600 });
  return {
    caFile,
    keyFile,
    key,
    prodx,
    oauth,
    gce,
    iam,
    proxy,
    reset() {
      for (const list of [
        prodx.inserts,
        oauth.requests,
        oauth.grants,
        gce.requests,
        gce.tokens,
        iam.requests,
        iam.tokens,
        proxy.tunnels,
      ])
        list.length = 0;
      prodx.answer({});
      oauth.setAnswer(undefined);
      gce.setAnswer(undefined);
      iam.setAnswer(undefined);
    },
    async close() {
      await Promise.all([prodx.close(), oauth.close(), gce.close(), iam.close(), proxy.close()]);
      await dir.remove();
    },
  };
}

/** A JWT bearer grant as the token endpoint received it, comparable between runs (times masked). */
export function comparableGrant(request: GoogleFakeRequest | undefined) {
  const form = new URLSearchParams(request?.body ?? "");
  const [header = "", claims = ""] = (form.get("assertion") ?? "").split(".");
  const decoded = JSON.parse(Buffer.from(claims, "base64url").toString() || "{}");
  return {
    method: request?.method,
    url: request?.url,
    contentType: request?.headers["content-type"],
    formKeys: [...form.keys()],
    grantType: form.get("grant_type"),
    header: Buffer.from(header, "base64url").toString(),
    claimKeys: Object.keys(decoded),
    claims: { ...decoded, iat: "masked", exp: "masked" },
    lifetime: decoded.exp - decoded.iat,
  };
}

/** A run's ts-mon lines (set-up and push outcomes), without the log line's prefix. */
export function tsMonLines(stderr: string): string[] {
  return stderr
    .split("\n")
    .filter((l) => /Failed to initialize tsmon|tsmon: failed to send|Failed to send tsmon metrics/.test(l))
    .map((l) => l.replace(/^\[[^\]]*\] /, ""));
}
