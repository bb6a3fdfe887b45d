import { copyFile, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { it } from "vitest";
import { type DiffWorkspace, expectSame, IMPLS, type Impl, runBoth } from "../../testing/differential.js";
import type { DiffContext } from "./context.js";

/** The life of a token: new, good, a copy missing, forced, inputs changed, expired, shared files. */
export function lifeScenarios(suite: { ctx: DiffContext; ws: DiffWorkspace }): void {
  const copies = (ws: DiffWorkspace, impl: Impl) => [
    "-token-file-copy",
    join(ws.dir(impl), "copy1.json"),
    "-token-file-copy",
    join(ws.dir(impl), "copy2.json"),
  ];
  const run = (...extra: string[]) => {
    const { ctx, ws } = suite;
    return runBoth(ws, (impl) => [...ws.args(impl, ctx.dev.backend), ...copies(ws, impl), ...extra], {
      serverCalls: ctx.mints,
    });
  };
  const editTokens = async (edit: (file: Record<string, unknown>) => void) => {
    for (const impl of IMPLS) {
      const path = join(suite.ws.dir(impl), "token.json");
      const file = JSON.parse(await readFile(path, "utf8"));
      edit(file);
      await writeFile(path, JSON.stringify(file, null, 2));
    }
  };

  it("new token, good token, a copy missing, forced refresh, changed certificate", async () => {
    expectSame(await run()); // NEW_TOKEN
    expectSame(await run()); // TOKEN_IS_GOOD
    for (const impl of IMPLS) await rm(join(suite.ws.dir(impl), "copy2.json"));
    expectSame(await run()); // MISSING_TOKEN_COPY
    expectSame(await run("-force-refresh")); // FORCE_REFRESH
    const renewed = await suite.ctx.pki.issue(); // the same key, a new serial: other cert bytes
    await suite.ws.setInputs(suite.ctx.pki.keyPem, renewed.certPem);
    expectSame(await run()); // PARAMS_CHANGE
  });

  it("a token whose next_update has passed is refreshed (TOKEN_EXPIRES)", async () => {
    await run();
    await editTokens((file) => {
      file.next_update = String(Math.floor(Date.now() / 1000) - 5);
    });
    expectSame(await run());
  });

  it("a token without tokend_state is refreshed (PARAMS_CHANGE)", async () => {
    await run();
    await editTokens((file) => {
      delete file.tokend_state;
    });
    expectSame(await run());
  });

  it("a token with unknown keys counts as no token (NEW_TOKEN)", async () => {
    await run();
    await editTokens((file) => {
      file.extra = "x";
    });
    expectSame(await run());
  });

  it("int64 values written as bare numbers are read", async () => {
    await run();
    await editTokens((file) => {
      for (const k of ["expiry", "last_update", "next_update"]) file[k] = Number(file[k]);
    });
    expectSame(await run());
  });

  it("a copy path equal to the token path", async () => {
    const { ctx, ws } = suite;
    const args = (impl: Impl) => [
      ...ws.args(impl, ctx.dev.backend),
      "-token-file-copy",
      join(ws.dir(impl), "token.json"),
    ];
    expectSame(await runBoth(ws, args, { serverCalls: ctx.mints }));
    expectSame(await runBoth(ws, args, { serverCalls: ctx.mints }));
  });

  it("each reads the other's token file as good: switching does not refresh", async () => {
    await run();
    const [go, ts] = IMPLS.map((impl) => suite.ws.dir(impl));
    for (const name of ["token.json", "copy1.json", "copy2.json"]) {
      await copyFile(join(go as string, name), join(go as string, `${name}.go`));
      await copyFile(join(ts as string, name), join(go as string, name));
      await copyFile(join(go as string, `${name}.go`), join(ts as string, name));
      await rm(join(go as string, `${name}.go`));
    }
    expectSame(await run());
  });
}
