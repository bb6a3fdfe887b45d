import { writeFile } from "node:fs/promises";
import { createTestPki, type TestPki } from "@luci-machine-tokend/dev-server";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../gen/tokenserver/minter/token_minter_pb.js";
import { createEngineContext, type EngineContext } from "../testing/engine-context.js";
import { createFakeMinter, type FakeReply, tokenReply } from "../testing/fake-minter.js";
import { runTokenUpdate } from "./run-token-update.js";

const START = new Date(1700000000_000); // 2023-11-14T22:13:20Z
const DAY = 86_400_000;
let pki: TestPki;
let t: EngineContext;

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-1.example.com", now: START });
});
beforeEach(async () => {
  t = await createEngineContext(pki, START);
});
afterEach(() => t.cleanup());

/** One run with `certPem` against a minter answering `reply`; the log, with `RPC` where the call was made. */
async function run(certPem: string, reply: FakeReply) {
  await writeFile(t.certPath, certPem);
  t.minter = createFakeMinter(() => {
    t.logs.push("RPC");
    return reply;
  });
  const result = await runTokenUpdate(t.settings());
  return { result, log: t.logs, rpc: t.logs.indexOf("RPC"), sent: t.minter.requests.length };
}

const untrusted: FakeReply = {
  errorCode: ErrorCode.UNTRUSTED_CERTIFICATE,
  errorMessage: "invalid or untrusted certificate",
};

describe("a certificate the token server will refuse is sent (as Go), and the log says why", () => {
  it("an expired one: a warning with its dates before the RPC", async () => {
    const r = await run(pki.expired.certPem, untrusted);
    expect([r.sent, r.result.outcome]).toEqual([1, "MINT_TOKEN_ERROR_UNTRUSTED_CERTIFICATE"]);
    const to = pki.expired.notAfter.toISOString().replace(/\.\d+Z$/, ".000Z");
    const warning = r.log.findIndex((l) =>
      l.startsWith(`warning: The certificate ${t.certPath} expired at ${to} (valid `),
    );
    expect(warning, r.log.join("\n")).toBeGreaterThanOrEqual(0);
    expect(warning).toBeLessThan(r.rpc);
    expect(r.log[warning]).toContain("sending it anyway");
  });

  it("one not valid yet: a warning with its dates and this machine's time, before the RPC", async () => {
    const future = await pki.issue({
      notBefore: new Date(START.getTime() + DAY),
      notAfter: new Date(START.getTime() + 9 * DAY),
    });
    const r = await run(future.certPem, tokenReply("t", new Date(START.getTime() + 3_600_000)));
    expect(r.result.outcome).toBe("UPDATE_SUCCESS"); // the server decides
    const warning = r.log.findIndex((l) =>
      l.startsWith(
        `warning: The certificate ${t.certPath} is not valid before 2023-11-15T22:13:20.000Z (valid 2023-11-15T22:13:20.000Z to 2023-11-23T22:13:20.000Z) and this machine's clock says 2023-11-14T22:13:20.000Z`,
      ),
    );
    expect(warning, r.log.join("\n")).toBeGreaterThanOrEqual(0);
    expect(warning).toBeLessThan(r.rpc);
  });

  it("a valid one: no warning", async () => {
    const r = await run(pki.certPem, tokenReply("t", new Date(START.getTime() + 3_600_000)));
    expect(r.log.filter((l) => l.startsWith("warning:"))).toEqual([]);
  });

  it("UNTRUSTED_CERTIFICATE: the certificate's issuer and validity after the server's answer", async () => {
    const r = await run(pki.untrusted.certPem, untrusted);
    const from = pki.untrusted.notBefore.toISOString().replace(/\.\d+Z$/, ".000Z");
    const to = pki.untrusted.notAfter.toISOString().replace(/\.\d+Z$/, ".000Z");
    const note = r.log.indexOf(
      `error: The token server does not trust the certificate ${t.certPath}: issued by "CN=Dev Server Test CA (untrusted)", valid ${from} to ${to} (valid now); it takes only current, unrevoked certificates of the CAs it is configured with`,
    );
    expect(note, r.log.join("\n")).toBeGreaterThan(r.rpc);
  });
});
