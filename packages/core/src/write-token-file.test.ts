import { execFileSync } from "node:child_process";
import { lstat, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { nodeAtomicWriteFs } from "./atomic-write.js";
import { makeTokenFile } from "./make-token-file.js";
import { createFakeClock } from "./testing/fake-clock.js";
import { fsError } from "./testing/fs-faults.js";
import { makeTempDir } from "./testing/temp-dir.js";
import { GO_TOKEN_FILE, GOLDEN_TOKEN, REFERENCE_DIGEST } from "./testing/vectors.js";
import { writeTokenFile } from "./write-token-file.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir();
});
afterEach(() => tmp.remove());

const token = () =>
  makeTokenFile({
    luciMachineToken: GOLDEN_TOKEN,
    expiry: 1422939906n,
    lastUpdate: 1422936306n,
    nextUpdate: 1422938106n,
  });
const state = { inputsDigest: REFERENCE_DIGEST, version: "1.3" };

describe("writeTokenFile", () => {
  it("writes Go tokend's exact bytes with mode 0644", async () => {
    const path = tmp.path("token.json");
    expect(await writeTokenFile(path, token(), state)).toEqual({ written: true });
    expect(await readFile(path, "utf8")).toBe(GO_TOKEN_FILE);
    expect((await stat(path)).mode & 0o777).toBe(0o644 & ~process.umask());
  });

  it("honours opts.mode", async () => {
    const path = tmp.path("token.json");
    await writeTokenFile(path, token(), state, { mode: 0o600 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it("skips the write when the file already holds the same bytes", async () => {
    const path = tmp.path("token.json");
    await writeFile(path, GO_TOKEN_FILE);
    const before = await stat(path, { bigint: true });
    let creates = 0;
    const result = await writeTokenFile(path, token(), state, {
      fs: {
        writeNewFile: async (p, d, m) => {
          creates++;
          await nodeAtomicWriteFs.writeNewFile(p, d, m);
        },
      },
    });
    expect(result).toEqual({ written: false });
    expect(creates).toBe(0);
    const after = await stat(path, { bigint: true });
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeNs).toBe(before.mtimeNs);
  });

  // Go builds write one or two spaces after ':'; a copy Go wrote must not be rewritten for that.
  it.each([
    ["two spaces after colons", GO_TOKEN_FILE.replace(/": /g, '":  ')],
    ["no indentation and a trailing newline", `${JSON.stringify(JSON.parse(GO_TOKEN_FILE))}\n`],
    ["CRLF line ends", GO_TOKEN_FILE.replace(/\n/g, "\r\n")],
    [
      "the keys in another order",
      JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(GO_TOKEN_FILE)).reverse())),
    ],
  ])("keeps a file with the same content in other spacing (%s)", async (_name, content) => {
    const path = tmp.path("token.json");
    await writeFile(path, content);
    const before = await stat(path, { bigint: true });
    expect(await writeTokenFile(path, token(), state)).toEqual({ written: false });
    expect(await readFile(path, "utf8")).toBe(content);
    expect((await stat(path, { bigint: true })).mtimeNs).toBe(before.mtimeNs);
  });

  const edit = (f: (o: Record<string, unknown>) => void) => {
    const o = JSON.parse(GO_TOKEN_FILE.replace(/": /g, '":  ')) as Record<string, unknown>;
    f(o);
    return JSON.stringify(o, null, 2);
  };
  it.each([
    ["an extra key", edit((o) => Object.assign(o, { extra: "x" }))],
    ["an extra known key set to null", edit((o) => Object.assign(o, { access_token: null }))],
    ["an extra known key set to its default", edit((o) => Object.assign(o, { token_type: "" }))],
    ["a missing key", edit((o) => delete o.tokend_state)],
    ["another token", edit((o) => Object.assign(o, { luci_machine_token: "other" }))],
    ["another expiry", edit((o) => Object.assign(o, { expiry: "1422939907" }))],
    ["an int64 as a number", edit((o) => Object.assign(o, { expiry: 1422939906 }))],
    [
      "another tokend_state",
      edit((o) => Object.assign(o, { tokend_state: Buffer.from("{}").toString("base64") })),
    ],
    ["a repeated key", GO_TOKEN_FILE.replace("{", `{\n  "expiry": "1422939906",`)],
    ["invalid JSON", GO_TOKEN_FILE.slice(0, -1)],
  ])("rewrites a file with other content (%s)", async (_name, content) => {
    const path = tmp.path("token.json");
    await writeFile(path, content);
    expect(await writeTokenFile(path, token(), state)).toEqual({ written: true });
    expect(await readFile(path, "utf8")).toBe(GO_TOKEN_FILE);
  });

  it("writes when the current file cannot be read (it counts as different)", async () => {
    const path = tmp.path("token.json");
    await writeFile(path, GO_TOKEN_FILE);
    const readFileFails = async () => {
      throw fsError("EACCES", "open");
    };
    expect(await writeTokenFile(path, token(), state, { readFile: readFileFails })).toEqual({
      written: true,
    });
    expect(await readFile(path, "utf8")).toBe(GO_TOKEN_FILE);
  });

  it("on a failed replace keeps the old file and leaves no temp file", async () => {
    const path = tmp.path("token.json");
    await writeFile(path, "old");
    const rename = async () => {
      throw fsError("EROFS");
    };
    await expect(writeTokenFile(path, token(), state, { fs: { rename } })).rejects.toMatchObject({
      code: "EROFS",
    });
    expect(await readdir(tmp.dir)).toEqual(["token.json"]);
    expect(await readFile(path, "utf8")).toBe("old");
  });

  it("refuses a FIFO, or a symlink to a device, at the path instead of replacing it", async () => {
    const fifo = tmp.path("copy.json");
    execFileSync("mkfifo", [fifo]);
    await expect(writeTokenFile(fifo, token(), state)).rejects.toThrow(
      `${fifo}: not a regular file (it is a FIFO)`,
    );
    expect((await lstat(fifo)).isFIFO()).toBe(true);
    const link = tmp.path("null.json");
    await symlink("/dev/null", link);
    await expect(writeTokenFile(link, token(), state)).rejects.toThrow("(it is a character device)");
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect((await readdir(tmp.dir)).sort()).toEqual(["copy.json", "null.json"]);
  });

  it("retries a refused rename (Windows) with the injected sleep and then succeeds", async () => {
    const path = tmp.path("token.json");
    await writeFile(path, "old");
    const clock = createFakeClock();
    let refusals = 2;
    const rename = async (a: string, b: string) => {
      if (refusals-- > 0) throw fsError("EACCES");
      await nodeAtomicWriteFs.rename(a, b);
    };
    expect(
      await writeTokenFile(path, token(), state, {
        fs: { rename },
        sleep: clock.sleep,
        now: clock.now,
        platform: "win32",
      }),
    ).toEqual({ written: true });
    expect(clock.delays).toEqual([500, 500]);
    expect(await readFile(path, "utf8")).toBe(GO_TOKEN_FILE);
  });

  it("fails for a directory that does not exist (directories are never created)", async () => {
    await expect(writeTokenFile(tmp.path("no/token.json"), token(), state)).rejects.toMatchObject({
      code: "ENOENT",
    });
  });
});
