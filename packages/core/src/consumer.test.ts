import { readFile, writeFile } from "node:fs/promises";
import {
  calcDigest,
  decideUpdateReason,
  mintToken,
  readTokenFile,
  tokendDigestInputs,
  writeTokenFile,
} from "@luci-machine-tokend/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "./testing/temp-dir.js";
import { GO_TOKEN_FILE, GO_TOKEN_FILE_TWO_SPACES, GOLDEN_TOKEN } from "./testing/vectors.js";

// What another Node program does with the package: read the Go tokend's file and decide.
describe("@luci-machine-tokend/core as a consumer uses it", () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  beforeAll(async () => {
    tmp = await makeTempDir();
  });
  afterAll(() => tmp.remove());

  const enc = new TextEncoder();
  const digest = () =>
    calcDigest(
      tokendDigestInputs({
        backend: "luci-token-server.appspot.com",
        certPem: enc.encode("CERT\n"),
        keyPem: enc.encode("PKEY\n"),
      }),
    );

  it.each([
    ["one space", GO_TOKEN_FILE],
    ["two spaces", GO_TOKEN_FILE_TWO_SPACES],
  ])("reads a token file written by the Go tokend (%s) and decides", async (_name, content) => {
    const path = tmp.path(`token-${_name.replace(" ", "-")}.json`);
    await writeFile(path, content);
    const { token, state } = await readTokenFile(path);
    expect(token?.luciMachineToken).toBe(GOLDEN_TOKEN);
    const inputsDigest = digest();
    const decide = (now: Date, forceRefresh = false) =>
      decideUpdateReason({ token, state, inputsDigest, now, forceRefresh });
    expect(decide(new Date(1422938106_000))).toBe("TOKEN_IS_GOOD");
    expect(decide(new Date(1422938106_001))).toBe("TOKEN_EXPIRES");
    expect(decide(new Date(1422937000_000), true)).toBe("FORCE_REFRESH");
    expect(decideUpdateReason({ token, state, inputsDigest: calcDigest({}), now: new Date(0) })).toBe(
      "PARAMS_CHANGE",
    );
  });

  it("writes back exactly what the Go tokend writes", async () => {
    const source = tmp.path("go.json");
    await writeFile(source, GO_TOKEN_FILE);
    const { token, state } = await readTokenFile(source);
    if (token === undefined) throw new Error("no token");
    expect(await writeTokenFile(source, token, state)).toEqual({ written: false });
    const copy = tmp.path("copy.json");
    expect(await writeTokenFile(copy, token, state)).toEqual({ written: true });
    expect(await readFile(copy, "utf8")).toBe(GO_TOKEN_FILE);
  });

  it("exports the five functions of the product brief", () => {
    for (const f of [readTokenFile, calcDigest, decideUpdateReason, mintToken, writeTokenFile])
      expect(typeof f).toBe("function");
  });
});
