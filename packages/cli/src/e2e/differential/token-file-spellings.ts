import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE64_SPELLINGS, INT64_SPELLINGS } from "../../../../core/src/testing/token-file-spellings.js";
import {
  createDiffWorkspace,
  type DiffResult,
  type DiffWorkspace,
  expectSame,
  IMPLS,
  runBoth,
  runImpl,
} from "../../testing/differential.js";
import type { DiffContext } from "./context.js";

/** Status values past 2^53: ours prints the double nearest the token file's value. */
const EXACT_IN_A_DOUBLE = 2n ** 53n;

/**
 * The token file's values spelled every way JSON allows (testing/token-file-spellings.ts), each
 * written into both implementations' token files beside a good token and state: both must read
 * the same value (or refuse the same file), and Go must read what the table says.
 */
export function tokenFileSpellingScenarios(suite: { ctx: DiffContext; ws: DiffWorkspace }): void {
  /** A token file Go minted with the suite's inputs: its fields, as JSON texts, by key. */
  let template: Record<string, string>;
  beforeAll(async () => {
    const { ctx } = suite;
    const ws = await createDiffWorkspace(ctx.pki.keyPem, ctx.pki.certPem);
    try {
      await runImpl("go", ws.args("go", ctx.dev.backend), ws.dir("go"));
      const minted = JSON.parse(await readFile(join(ws.dir("go"), "token.json"), "utf8"));
      template = Object.fromEntries(Object.entries(minted).map(([k, v]) => [k, JSON.stringify(v)]));
    } finally {
      await ws.cleanup();
    }
  });

  /** Writes the template with `key` spelled `json` for both, runs both, compares them. */
  const runWith = async (key: string, json: string): Promise<DiffResult> => {
    const { ctx, ws } = suite;
    const text = `{\n${Object.entries({ ...template, [key]: json })
      .map(([k, v]) => `  "${k}": ${v}`)
      .join(",\n")}\n}`;
    for (const impl of IMPLS) await writeFile(join(ws.dir(impl), "token.json"), text);
    const result = await runBoth(ws, (impl) => ws.args(impl, ctx.dev.backend), { serverCalls: ctx.mints });
    expectSame(result);
    return result;
  };
  const statusText = (impl: "go" | "ts", key: string) =>
    readFile(join(suite.ws.dir(impl), "status.json"), "utf8").then(
      (text) => new RegExp(`"${key}": (-?\\d+)`).exec(text)?.[1],
    );
  const reasonOf = (result: DiffResult) =>
    result.go.observation.status === "absent" ? undefined : result.go.observation.status.update_reason;

  describe("int64 spellings in the token file, as Go's protojson reads them", () => {
    it.each(INT64_SPELLINGS)("expiry %s: Go reads %s, and so do we", async (json, go) => {
      const result = await runWith("expiry", json);
      // expiry never decides a refresh: a refused file is no token, a read one stays good.
      expect(reasonOf(result)).toBe(go === "refused" ? "NEW_TOKEN" : "TOKEN_IS_GOOD");
      if (go === "refused") return;
      // The status file reports the token's expiry: the value each read, to the digit.
      const [goText, tsText] = await Promise.all(IMPLS.map((i) => statusText(i, "token_expiry_ts")));
      expect(goText).toBe(go === 0n ? undefined : String(go));
      const magnitude = go < 0n ? -go : go;
      if (magnitude <= EXACT_IN_A_DOUBLE) expect(tsText).toBe(goText);
      // Kept difference (docs/MIGRATING-FROM-GO.md, "int64 values in the token file").
      else expect(tsText).toBe(JSON.stringify(Number(go)));
    });

    it.each(INT64_SPELLINGS)("next_update %s: the same value decides the refresh", async (json, go) => {
      const result = await runWith("next_update", json);
      const now = BigInt(Math.floor(Date.now() / 1000));
      // Go's time.Unix wraps the last 62135596800 seconds before 2^63 around to the distant past.
      const past = (n: bigint) => n < now || n > 2n ** 63n - 1n - 62135596800n;
      const expected =
        go === "refused" || go === 0n ? "NEW_TOKEN" : past(go) ? "TOKEN_EXPIRES" : "TOKEN_IS_GOOD";
      expect(reasonOf(result)).toBe(expected);
    });
  });

  describe("tokend_state spellings (base64), as Go's protojson reads them", () => {
    it.each(BASE64_SPELLINGS)("%s: Go %s it, and so do we", async (_name, spell, go) => {
      // The state with one key Go and we ignore, so that its base64 ends in "==" and has + and /.
      const state = JSON.parse(Buffer.from(JSON.parse(template.tokend_state ?? '""'), "base64").toString());
      const std = padToDoubleEquals(state);
      const result = await runWith("tokend_state", spell(std));
      expect(reasonOf(result)).toBe(go === "refused" ? "NEW_TOKEN" : "TOKEN_IS_GOOD");
    });
  });
}

/** Base64 of `state` plus an ignored key chosen so that it holds `+` and `/` and ends in `==`. */
function padToDoubleEquals(state: Record<string, unknown>): string {
  for (let i = 0; ; i++) {
    const std = Buffer.from(JSON.stringify({ ...state, X: `>???~${i}` })).toString("base64");
    if (/^(?=.*\+)(?=.*\/).*[^=]==$/.test(std)) return std;
  }
}
