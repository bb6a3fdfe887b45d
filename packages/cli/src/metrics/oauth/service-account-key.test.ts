import { execFileSync } from "node:child_process";
import { createHash, createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { lchown, symlink, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir } from "../../../../core/src/testing/temp-dir.js";
import { jwtClaims, signJwtAssertion } from "./jwt-assertion.js";
import {
  cacheKeyId,
  GOOGLE_TOKEN_URI,
  parseServiceAccountKey,
  readServiceAccountKey,
  rsaPrivateKey,
} from "./service-account-key.js";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pkcs8 = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const pkcs1 = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const good = {
  type: "service_account",
  client_email: "a@p.iam.gserviceaccount.com",
  private_key: pkcs8,
  private_key_id: "kid1",
  token_uri: "https://127.0.0.1:1/token",
};

function parse(value: unknown) {
  const parsed = parseServiceAccountKey(typeof value === "string" ? value : JSON.stringify(value));
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed.key;
}

describe("parseServiceAccountKey, as x/oauth2/google's JWTConfigFromJSON", () => {
  it("reads the fields the grant uses; Google's token endpoint when token_uri is missing", () => {
    expect(parse(good)).toEqual({
      email: good.client_email,
      privateKeyText: pkcs8,
      privateKeyId: "kid1",
      tokenUri: good.token_uri,
      audience: "",
    });
    expect(parse({ ...good, token_uri: undefined }).tokenUri).toBe(GOOGLE_TOKEN_URI);
    expect(parse({ ...good, TOKEN_URI: "https://x/t", token_uri: undefined }).tokenUri).toBe("https://x/t");
  });

  it.each([
    ["not JSON, without quoting it", `{"private_key": "${pkcs8.slice(0, 40)}`, "not valid JSON"],
    ["a list", [good], "not a JSON object"],
    [
      "another type",
      { ...good, type: "authorized_user" },
      `'type' field is "authorized_user" (expected "service_account")`,
    ],
    ["no type", { ...good, type: undefined }, `'type' field is "" (expected "service_account")`],
    ["a number for an email", { ...good, client_email: 5 }, '"client_email" is not a string'],
  ])("refuses %s", (_, value, error) => {
    expect(parseServiceAccountKey(typeof value === "string" ? value : JSON.stringify(value))).toEqual({
      error,
    });
  });

  it("names the key in the cache by private_key_id, or by the private key's SHA-256", () => {
    expect(cacheKeyId(parse(good))).toBe("kid1");
    const hash = createHash("sha256").update(pkcs8).digest("hex");
    expect(cacheKeyId(parse({ ...good, private_key_id: undefined }))).toBe(`custom:${hash}`);
  });

  it("takes PKCS#8 and PKCS#1 RSA keys; refuses others with x/oauth2's words", () => {
    expect(rsaPrivateKey(parse(good)).asymmetricKeyType).toBe("rsa");
    expect(rsaPrivateKey(parse({ ...good, private_key: pkcs1 })).asymmetricKeyType).toBe("rsa");
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    expect(() => rsaPrivateKey(parse({ ...good, private_key: ec }))).toThrow("private key is invalid");
    expect(() =>
      rsaPrivateKey(
        parse({ ...good, private_key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }),
      ),
    ).toThrow("private key should be a PEM or plain PKCS1 or PKCS8");
  });
});

describe("readServiceAccountKey", () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  beforeEach(async () => {
    tmp = await makeTempDir();
  });
  afterEach(() => tmp.remove());

  it("names the file in a one-line error (Go's os.PathError text when it cannot be opened)", async () => {
    expect(await readServiceAccountKey(tmp.path("missing.json"))).toEqual({
      error: `open ${tmp.path("missing.json")}: no such file or directory`,
    });
    const big = tmp.path("big.json");
    await writeFile(big, " ".repeat(70_000));
    expect(await readServiceAccountKey(big)).toEqual({
      error: expect.stringMatching(/larger than 65536 bytes/),
    });
  });

  it("does not open a FIFO", async () => {
    const fifo = tmp.path("fifo.json");
    execFileSync("mkfifo", [fifo]);
    expect(await readServiceAccountKey(fifo)).toEqual({
      error: `open ${fifo}: not a regular file (it is a FIFO)`,
    });
  });

  it.skipIf(process.getuid?.() !== 0)("does not follow another user's symlink", async () => {
    const target = tmp.path("real.json");
    await writeFile(target, JSON.stringify(good));
    const link = tmp.path("link.json");
    await symlink(target, link);
    await lchown(link, 65534, 65534);
    expect(await readServiceAccountKey(link)).toEqual({
      error: expect.stringMatching(/symbolic link owned by uid 65534/),
    });
  });
});

describe("the JWT assertion, as x/oauth2/jws", () => {
  it("has Go's header, claims order and times, and an RS256 signature", () => {
    const claims = jwtClaims({
      email: "a@p",
      scopes: ["s1", "s2"],
      aud: "https://h/token?a=1&b=<",
      nowMs: 1_796_677_770_900,
    });
    expect(claims).toEqual({
      iss: "a@p",
      scope: "s1 s2",
      aud: "https://h/token?a=1&b=<",
      iat: 1_796_677_760,
      exp: 1_796_681_360,
    });
    const jwt = signJwtAssertion(claims, privateKey, "kid1");
    const [h = "", c = "", s = ""] = jwt.split(".");
    expect(Buffer.from(h, "base64url").toString()).toBe('{"alg":"RS256","typ":"JWT","kid":"kid1"}');
    expect(Buffer.from(c, "base64url").toString()).toBe(
      '{"iss":"a@p","scope":"s1 s2","aud":"https://h/token?a=1\\u0026b=\\u003c","exp":1796681360,"iat":1796677760}',
    );
    expect(
      verify("sha256", Buffer.from(`${h}.${c}`), createPublicKey(privateKey), Buffer.from(s, "base64url")),
    ).toBe(true);
    const noKid = signJwtAssertion({ ...claims, scope: "" }, privateKey, "");
    expect(Buffer.from(noKid.split(".")[0] ?? "", "base64url").toString()).toBe(
      '{"alg":"RS256","typ":"JWT"}',
    );
    expect(Buffer.from(noKid.split(".")[1] ?? "", "base64url").toString()).not.toContain("scope");
  });
});
