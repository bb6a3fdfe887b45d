import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { createTokenMinterClient, mintToken } from "@luci-machine-tokend/core";
import { ErrorCode, MintMachineTokenResponseSchema } from "@luci-machine-tokend/core/gen";
import { createTestPki, type TestPki } from "@luci-machine-tokend/dev-server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  floodHttp2Streams,
  largeUntrustedRequests,
  postPrpc,
} from "../../../dev-server/src/testing/memory-attacks.js";
import { testSigner } from "../../../dev-server/src/testing/signed-request.js";
import { type DevServerProcess, startDevServerProcess } from "../testing/dev-server-process.js";

/**
 * The dev server's memory under the two attacks of issue 20, read from its own process (VmRSS):
 * it stays under {@link BOUND_MIB} while a normal client still gets tokens. Each attack is scaled
 * down to what would still pass the bound several times over without the budget (the full size
 * runs in `npm run bench:attacks`): before the budget, 80 large certificates kept ~660 MiB, and
 * the streams reached the bound before the attacker had sent 210 MB.
 */

const BOUND_MIB = 300;
const MB = 1_000_000;

let pki: TestPki;
let dir = "";
/** A server of its own for each attack, so one attack's memory is not counted in the other's. */
let server: DevServerProcess;

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-1.example.com" });
  dir = await mkdtemp(join(tmpdir(), "dev-server-memory-"));
  await writeFile(join(dir, "ca.pem"), pki.caCertPem);
});
beforeEach(async () => {
  server = await startDevServerProcess([
    ...["--ca-cert", join(dir, "ca.pem"), "--domain", "example.com=1h"],
    // Stalled streams are dropped after the request timeout anyway: the attack must not depend on
    // being faster than that on a busy machine.
    ...["--request-timeout", "10m"],
  ]);
});
afterEach(async () => {
  expect(await server.stop()).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A normal tokend's call (pRPC over HTTP/1.1, retrying as tokend does): it must get a token. */
async function normalMint(): Promise<number> {
  const minted = await mintToken({
    client: createTokenMinterClient(server.backend),
    signer: testSigner(pki.leaf),
    timeoutMs: 20_000,
  });
  expect(minted.token).not.toBe("");
  return minted.attempts;
}

/** The decoded answer's error code of a pRPC call over HTTP/1.1. */
async function errorCodeOf(body: Uint8Array): Promise<ErrorCode> {
  const answer = await postPrpc(server.backend, body);
  if (answer.grpcCode !== "0") throw new Error(`HTTP ${answer.status}: ${answer.body}`);
  return fromBinary(MintMachineTokenResponseSchema, answer.body).errorCode;
}

describe("dev server memory, in its own process", () => {
  it("large untrusted certificates, each one new, are not kept", { timeout: 120_000 }, async () => {
    const attack = await largeUntrustedRequests(MB);
    let peak = server.rssMiB();
    const calls = 80;
    for (let i = 0; i < calls; i += 4) {
      const answers = await Promise.all(Array.from({ length: 4 }, () => errorCodeOf(attack.next())));
      expect(answers).toEqual(Array(4).fill(ErrorCode.UNTRUSTED_CERTIFICATE));
      peak = Math.max(peak, server.rssMiB());
      if (i % 20 === 0) await normalMint();
    }
    expect(peak, `peak RSS after ${calls} calls (MiB)`).toBeLessThan(BOUND_MIB);
  });

  it("HTTP/2 streams with 1 MB bodies that never end are held within the budget", {
    timeout: 120_000,
  }, async () => {
    // 50 connections × 100 streams × 1 MB, as in the issue: the server lets each connection
    // have 8 at once, whose 400 MB would still be far past the budget if kept.
    const flood = floodHttp2Streams({
      url: server.grpcUrl,
      connections: 50,
      streamsPerConnection: 100,
      bodyBytes: MB,
    });
    let peak = server.rssMiB();
    const sample = setInterval(() => {
      peak = Math.max(peak, server.rssMiB());
    }, 50);
    try {
      let mints = 0;
      // Until the attacker has sent as much as the bound: without the budget the server kept every
      // byte (each stream's first 1 MB), on top of its own ~65 MiB.
      while (flood.bytesSent < BOUND_MIB * 2 ** 20) {
        await normalMint();
        mints++;
        expect(peak, `peak RSS with ${flood.bytesSent} bytes sent (MiB)`).toBeLessThan(BOUND_MIB);
      }
      expect(mints).toBeGreaterThan(0);
      expect(flood.answered).toBeGreaterThan(0); // the server refused streams, it did not just wait
    } finally {
      clearInterval(sample);
      flood.stop();
    }
    peak = Math.max(peak, server.rssMiB());
    expect(peak, "peak RSS (MiB)").toBeLessThan(BOUND_MIB);
    await normalMint();
  });
});
