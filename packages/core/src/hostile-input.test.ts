import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorMessage } from "./common/fs-errors.js";
import { MintMachineTokenResponseSchema, TokenMinter } from "./gen/tokenserver/minter/token_minter_pb.js";
import { mintToken } from "./mint/mint-token.js";
import { MintTokenError } from "./mint/mint-token-error.js";
import { outcomeFromError } from "./mint/outcome-from-error.js";
import { createX509Signer, KeyLoadError } from "./mint/x509-signer.js";
import { createPrpcTransport } from "./protocol-prpc/transport.js";
import { makeTestPki, type TestPki } from "./testing/pki.js";
import { readTokenFile } from "./token-file/read-token-file.js";
import { parseTokenFile } from "./token-file/token-file.js";

/**
 * Hostile input never crashes a run: property tests over the three parsers that read what the
 * world hands tokend. `npm test` runs a few hundred cases each; `npm run fuzz` sets FUZZ_RUNS=10000.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const encoder = new TextEncoder();

let dir: string;
let pki: TestPki;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tokend-hostile-"));
  pki = await makeTestPki();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Bytes that look more or less like a token file. */
const tokenFileBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.json().map((t) => encoder.encode(t)),
  fc
    .record(
      {
        luci_machine_token: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        expiry: fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null)),
        next_update: fc.oneof(fc.bigInt().map(String), fc.integer(), fc.array(fc.integer())),
        tokend_state: fc.oneof(fc.base64String(), fc.string(), fc.object()),
      },
      { requiredKeys: [] },
    )
    .map((o) => encoder.encode(JSON.stringify(o))),
  fc
    .integer({ min: 1, max: 5000 })
    .map((depth) => encoder.encode(`${"[".repeat(depth)}${"]".repeat(depth)}`)),
  fc.json().map((t) => encoder.encode(`\uFEFF${t}`)),
);

describe("hostile token files", () => {
  it("parseTokenFile returns a token or a one-line error for any bytes", () => {
    fc.assert(
      fc.property(tokenFileBytes, (bytes) => {
        const parsed = parseTokenFile(bytes);
        if (parsed.error !== undefined) expect(parsed.error).not.toMatch(/\n/);
        else expect(typeof parsed.token.nextUpdate).toBe("bigint");
      }),
      { numRuns: RUNS },
    );
  });

  it("readTokenFile never throws, whatever the file holds", async () => {
    const path = join(dir, "token.json");
    await fc.assert(
      fc.asyncProperty(tokenFileBytes, async (bytes) => {
        await writeFile(path, bytes);
        const result = await readTokenFile(path);
        expect(result.token === undefined || typeof result.token.luciMachineToken === "string").toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("hostile PEM files", () => {
  /** Valid PEMs cut, spliced and corrupted, plus arbitrary bytes. */
  const pemBytes = (valid: () => string) =>
    fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => {
        const text = valid();
        return encoder.encode(text.slice(0, a % text.length) + text.slice((a % text.length) + (b % 40)));
      }),
      fc.tuple(fc.nat(), fc.string({ maxLength: 4 })).map(([at, junk]) => {
        const text = valid();
        const i = at % text.length;
        return encoder.encode(text.slice(0, i) + junk + text.slice(i + junk.length));
      }),
      fc.constant(encoder.encode("")),
      fc
        .constantFrom(
          "-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n",
          "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .map((t) => encoder.encode(t)),
    );

  it("createX509Signer succeeds or throws a one-line KeyLoadError naming the file", async () => {
    const keyPath = join(dir, "key.pem");
    const certPath = join(dir, "cert.pem");
    await fc.assert(
      fc.asyncProperty(
        pemBytes(() => pki.leaf.pkcs1Pem),
        pemBytes(() => pki.leaf.certPem),
        async (key, cert) => {
          await writeFile(keyPath, key);
          await writeFile(certPath, cert);
          try {
            await createX509Signer({ keyPath, certPath });
          } catch (err) {
            expect(err).toBeInstanceOf(KeyLoadError);
            const message = errorMessage(err);
            expect(message).not.toMatch(/\n/);
            expect(message.startsWith(`${keyPath}: `) || message.startsWith(`${certPath}: `)).toBe(true);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("hostile server answers", () => {
  /** A pRPC "server" that answers with the given status, headers and body, without a network. */
  const answering = (status: number, headers: Record<string, string>, body: Uint8Array) =>
    createClient(
      TokenMinter,
      createPrpcTransport({
        baseUrl: "https://tokens.example.com",
        httpClient: async (req) => {
          for await (const _ of req.body ?? []) {
            // consume the request
          }
          return {
            status,
            header: new Headers(headers),
            trailer: new Headers(),
            body: (async function* () {
              yield body;
            })(),
          };
        },
      }),
    );

  const goodResponse = toBinary(
    MintMachineTokenResponseSchema,
    create(MintMachineTokenResponseSchema, {
      serviceVersion: "x/y",
      tokenResponse: {
        serviceVersion: "x/y",
        tokenType: {
          case: "luciMachineToken",
          value: { machineToken: "t", expiry: timestampFromDate(new Date(2e12)) },
        },
      },
    }),
  );

  const answers = fc.record({
    status: fc.constantFrom(200, 200, 200, 400, 403, 404, 500, 502, 503),
    code: fc.oneof(fc.constant(undefined), fc.constantFrom("0", "0", "0", "3", "13", "14", "x", "99", "")),
    contentType: fc.constantFrom(
      "application/prpc; encoding=binary",
      "application/json",
      "text/html",
      "",
      "application/prpc; encoding=binary; x=y",
    ),
    gzip: fc.boolean(),
    body: fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => {
        const copy = goodResponse.slice();
        copy[a % copy.length] = b % 256;
        return copy;
      }),
      fc.nat().map((n) => goodResponse.slice(0, n % goodResponse.length)),
    ),
  });

  it("any bytes in a response end as a token, MALFORMED_RESPONSE or a named RPC error", async () => {
    const signer = {
      algorithm: 1 as const,
      certificateDer: pki.leaf.certDer,
      sign: async () => new Uint8Array(4),
    };
    await fc.assert(
      fc.asyncProperty(answers, async (a) => {
        const headers: Record<string, string> = { "Content-Type": a.contentType };
        if (a.code !== undefined) headers["X-Prpc-Grpc-Code"] = a.code;
        if (a.gzip) headers["Content-Encoding"] = "gzip";
        let t = 0;
        try {
          const minted = await mintToken({
            client: answering(a.status, headers, a.body),
            signer,
            timeoutMs: 1000,
            now: () => new Date(1e12 + t),
            sleep: async (ms) => {
              t += ms;
            },
          });
          expect(typeof minted.token).toBe("string");
        } catch (err) {
          expect(err).toBeInstanceOf(MintTokenError);
          expect(outcomeFromError(err)).toMatch(
            /^(GRPC_ERROR_\d+|MINT_TOKEN_ERROR_\w+|MALFORMED_RESPONSE|UNKNOWN_RPC_ERROR)$/,
          );
        }
      }),
      { numRuns: RUNS },
    );
  });
});
