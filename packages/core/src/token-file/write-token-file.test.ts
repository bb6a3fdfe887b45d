import { execFileSync } from "node:child_process";
import { chmod, lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { nodeAtomicWriteFs } from "../safe-files/atomic-write.js";
import { canActAsNobody, shAsNobody } from "../testing/as-nobody.js";
import { createFakeClock } from "../testing/fake-clock.js";
import { fsError } from "../testing/fs-faults.js";
import { durableWriteOf, recordingAtomicFs } from "../testing/recording-fs.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { GO_TOKEN_FILE, GOLDEN_TOKEN, REFERENCE_DIGEST } from "../testing/vectors.js";
import { makeTokenFile } from "./make-token-file.js";
import { tokenPathProblem, writeTokenFile } from "./write-token-file.js";

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

  it("writes, fsyncs and closes a temp file, renames it over the token file, then fsyncs the directory", async () => {
    const path = tmp.path("token.json");
    const events: string[] = [];
    await writeTokenFile(path, token(), state, { fs: recordingAtomicFs(events, tmp.dir) });
    expect(events).toEqual(durableWriteOf("token.json"));
    expect(await readFile(path, "utf8")).toBe(GO_TOKEN_FILE);
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
    // JSON.parse refuses a bare `1e`; Go reads it as 1 (testing/token-file-spellings.ts).
    ["an int64 as Go's bare 1e", GO_TOKEN_FILE.replace('"1422939906"', "1e")],
    ["an int64 as a string with an exponent", GO_TOKEN_FILE.replace('"1422939906"', '"1.422939906e9"')],
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

  it("refuses our own FIFO, our symlink to a device or a directory, and a directory, instead of replacing them", async () => {
    const fifo = tmp.path("copy.json");
    execFileSync("mkfifo", [fifo]);
    await expect(writeTokenFile(fifo, token(), state)).rejects.toThrow(`${fifo} is a FIFO, not a token file`);
    expect((await lstat(fifo)).isFIFO()).toBe(true);
    const link = tmp.path("null.json");
    await symlink("/dev/null", link);
    await expect(writeTokenFile(link, token(), state)).rejects.toThrow(
      `${link} is a symbolic link to a character device, not a token file`,
    );
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    await symlink(tmp.dir, tmp.path("dir.json"));
    await expect(writeTokenFile(tmp.path("dir.json"), token(), state)).rejects.toMatchObject({
      code: "EISDIR",
      message: `${tmp.path("dir.json")} is a symbolic link to a directory, not a token file`,
    });
    await mkdir(tmp.path("real-dir.json"));
    await expect(tokenPathProblem(tmp.path("real-dir.json"))).resolves.toMatchObject({ code: "EISDIR" });
    expect((await readdir(tmp.dir)).sort()).toEqual(["copy.json", "dir.json", "null.json", "real-dir.json"]);
  });

  it("replaces our own symlink to a regular file that differs, and keeps it when the content is the same", async () => {
    await writeFile(tmp.path("real.json"), GO_TOKEN_FILE);
    await symlink("real.json", tmp.path("same.json"));
    expect(await writeTokenFile(tmp.path("same.json"), token(), state)).toEqual({ written: false });
    expect((await lstat(tmp.path("same.json"))).isSymbolicLink()).toBe(true);
    await writeFile(tmp.path("old.json"), "{}");
    await symlink("old.json", tmp.path("stale.json"));
    expect(await writeTokenFile(tmp.path("stale.json"), token(), state)).toEqual({ written: true });
    expect((await lstat(tmp.path("stale.json"))).isFile()).toBe(true);
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

describe.skipIf(!canActAsNobody)("writeTokenFile in a directory anyone may write (1777)", () => {
  beforeEach(() => chmod(tmp.dir, 0o1777));

  it("replaces what another user planted at the path (FIFO, symlinks, files) by our own token file", async () => {
    await writeFile(tmp.path("ours.json"), GO_TOKEN_FILE);
    await chmod(tmp.path("ours.json"), 0o644);
    shAsNobody(
      [
        "mkfifo fifo.json",
        "ln -s /etc etc.json",
        "ln -s /dev/zero zero.json",
        "cp ours.json theirs",
        "ln -s theirs same-via-link.json", // their link to their file with our very bytes
        "cp ours.json same.json", // their file with our very bytes
        "ln -s ours.json link-to-ours.json", // their link to our file
      ].join(" && "),
      tmp.dir,
    );
    for (const name of [
      "fifo.json",
      "etc.json",
      "zero.json",
      "same-via-link.json",
      "same.json",
      "link-to-ours.json",
    ]) {
      const path = tmp.path(name);
      expect(await tokenPathProblem(path)).toBeUndefined();
      expect(await writeTokenFile(path, token(), state), name).toEqual({ written: true });
      const entry = await lstat(path);
      expect([entry.isFile(), entry.uid], name).toEqual([true, 0]);
      expect(await readFile(path, "utf8")).toBe(GO_TOKEN_FILE);
    }
  });

  it("keeps an identical file of ours, also behind our own symlink", async () => {
    await writeFile(tmp.path("ours.json"), GO_TOKEN_FILE);
    await symlink("ours.json", tmp.path("link.json"));
    expect(await writeTokenFile(tmp.path("ours.json"), token(), state)).toEqual({ written: false });
    expect(await writeTokenFile(tmp.path("link.json"), token(), state)).toEqual({ written: false });
    // Our link to their file with the same bytes: the content is theirs to change, so it is replaced.
    shAsNobody(`cp ours.json theirs`, tmp.dir);
    await symlink("theirs", tmp.path("to-theirs.json"));
    expect(await writeTokenFile(tmp.path("to-theirs.json"), token(), state)).toEqual({ written: true });
  });
});
