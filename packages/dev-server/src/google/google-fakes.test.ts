import { generateKeyPairSync, sign } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer } from "../start-dev-server.js";
import { startFakeGceMetadata } from "./fake-gce-metadata.js";
import { startFakeIamCredentials } from "./fake-iam-credentials.js";
import { type FakeOAuthServer, startFakeOAuthServer } from "./fake-oauth-server.js";
import { createServiceAccountKey } from "./service-account-key.js";

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

describe("the fake OAuth token endpoint checks the JWT bearer grant", () => {
  let oauth: FakeOAuthServer;
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const email = "sa@p.iam.gserviceaccount.com";
  beforeAll(async () => {
    oauth = await startFakeOAuthServer({ serviceAccounts: { [email]: publicKey } });
  });
  afterAll(() => oauth.close());

  function assertion(claims: Record<string, unknown> = {}, tamper = false): string {
    const now = Math.floor(Date.now() / 1000);
    const input = `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ iss: email, scope: "s", aud: oauth.tokenUri, iat: now - 10, exp: now + 3590, ...claims })}`;
    const signature = sign("sha256", Buffer.from(input), privateKey);
    if (tamper) signature[10] = (signature[10] ?? 0) ^ 1; // a byte of the decoded signature
    return `${input}.${signature.toString("base64url")}`;
  }
  const grant = (jwt: string) =>
    fetch(oauth.tokenUri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion: jwt,
      }),
    });

  it("grants a good assertion an access token it then knows", async () => {
    const res = await grant(assertion());
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; expires_in: number; token_type: string };
    expect(body).toMatchObject({ expires_in: 3599, token_type: "Bearer" });
    expect(oauth.issued(body.access_token)).toBe(true);
  });

  it.each([
    ["a tampered signature", () => assertion({}, true), "Invalid JWT Signature."],
    ["another audience", () => assertion({ aud: "https://oauth2.googleapis.com/token" }), "aud must be"],
    ["an expired assertion", () => assertion({ iat: 1000, exp: 4600 }), "reasonable timeframe"],
    [
      "a lifetime over an hour",
      () => assertion({ exp: Math.floor(Date.now() / 1000) + 7200 }),
      "reasonable timeframe",
    ],
    ["an unknown account", () => assertion({ iss: "x@p" }), "account not found"],
    ["no scope", () => assertion({ scope: "" }), "no scope"],
  ])("refuses %s with Google's 400 invalid_grant", async (_, jwt, description) => {
    const res = await grant(jwt());
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe("invalid_grant");
    expect(body.error_description).toContain(description);
  });
});

describe("the fake GCE metadata server and IAM Credentials", () => {
  it("answers only requests with Metadata-Flavor: Google", async () => {
    const gce = await startFakeGceMetadata({ email: "vm@p" });
    try {
      const url = `${gce.url}/computeMetadata/v1/instance/service-accounts/default/email`;
      expect((await fetch(url)).status).toBe(403);
      const res = await fetch(url, { headers: { "metadata-flavor": "Google" } });
      expect(await res.text()).toBe("vm@p");
      expect(res.headers.get("metadata-flavor")).toBe("Google");
    } finally {
      await gce.close();
    }
  });

  it("gives a token for a good base token and scope; 401, 400 and 403 otherwise", async () => {
    const iam = await startFakeIamCredentials({ acceptBaseToken: (t) => t === "base", accounts: ["t@p"] });
    try {
      const call = (account: string, token: string, body: unknown) =>
        fetch(`${iam.url}/v1/projects/-/serviceAccounts/${encodeURIComponent(account)}:generateAccessToken`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const ok = await call("t@p", "base", { scope: ["s"] });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({
        accessToken: iam.tokens[0]?.accessToken,
        expireTime: expect.stringMatching(/Z$/),
      });
      expect((await call("t@p", "nope", { scope: ["s"] })).status).toBe(401);
      expect((await call("t@p", "base", {})).status).toBe(400);
      expect((await call("u@p", "base", { scope: ["s"] })).status).toBe(403);
    } finally {
      await iam.close();
    }
  });
});

it("startDevServer runs the Google stand-ins it is asked for, and closes them", async () => {
  const dev = await startDevServer({ googleOAuth: {}, gceMetadata: {}, iamCredentials: {} });
  try {
    const key = createServiceAccountKey({ tokenUri: dev.google.oauth?.tokenUri ?? "" });
    dev.google.oauth?.addServiceAccount(key.email, key.publicKeyPem);
    expect(JSON.parse(key.json)).toMatchObject({
      type: "service_account",
      client_email: key.email,
      token_uri: dev.google.oauth?.tokenUri,
    });
    expect((await fetch(`${dev.google.gceMetadata?.url}/`)).status).toBe(403);
    expect(dev.google.iamCredentials?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  } finally {
    await dev.close();
  }
  await expect(fetch(`${dev.google.gceMetadata?.url}/`)).rejects.toThrow();
});
