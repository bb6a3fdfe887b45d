import { execFileSync } from "node:child_process";
import { chmod, mkdir, stat, symlink, truncate, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { canActAsNobody, shAsNobody } from "../testing/as-nobody.js";
import { type RecordingLogger, recordingLogger } from "../testing/recording-logger.js";
import { makeTempDir } from "../testing/temp-dir.js";
import {
  GO_TOKEN_FILE,
  GO_TOKEN_FILE_TWO_SPACES,
  GOLDEN_TOKEN,
  REFERENCE_DIGEST,
} from "../testing/vectors.js";
import { MAX_TOKEN_FILE_BYTES, readCapped, readTokenFile } from "./read-token-file.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let logger: RecordingLogger;
beforeEach(async () => {
  tmp = await makeTempDir();
  logger = recordingLogger();
});
afterEach(() => tmp.remove());

describe("readTokenFile", () => {
  it.each([
    ["one space", GO_TOKEN_FILE],
    ["two spaces", GO_TOKEN_FILE_TWO_SPACES],
  ])("reads a token file written by Go tokend (%s after colons)", async (_name, content) => {
    const path = tmp.path("token.json");
    await writeFile(path, content);
    const result = await readTokenFile(path, { logger });
    expect(result.token?.luciMachineToken).toBe(GOLDEN_TOKEN);
    expect(result.token?.nextUpdate).toBe(1422938106n);
    expect(result.state).toEqual({ inputsDigest: REFERENCE_DIGEST, version: "1.3" });
    expect(logger.lines).toEqual([]);
  });

  it("treats a missing file as no token, without a warning", async () => {
    expect(await readTokenFile(tmp.path("absent.json"), { logger })).toEqual({});
    expect(logger.lines).toEqual([]);
  });

  it("warns about a directory at the path and returns no token", async () => {
    const path = tmp.path("token.json");
    await mkdir(path);
    expect(await readTokenFile(path, { logger })).toEqual({});
    expect(logger.at("warning")).toHaveLength(1);
    expect(logger.at("warning")[0]).toMatch(
      new RegExp(`^Failed to read token file from "${escapeRegExp(path)}" - .+`),
    );
  });

  it("warns about a read error (injected) and returns no token", async () => {
    const path = tmp.path("token.json");
    await writeFile(path, GO_TOKEN_FILE);
    const readFile = async () => {
      throw Object.assign(new Error("EACCES: permission denied, open 'x'"), { code: "EACCES" });
    };
    expect(await readTokenFile(path, { logger, readFile })).toEqual({});
    expect(logger.at("warning")).toEqual([
      `Failed to read token file from "${path}" - EACCES: permission denied, open 'x'`,
    ]);
  });

  it("passes the path to the injected reader", async () => {
    const seen: string[] = [];
    const readFile = async (p: string) => {
      seen.push(p);
      return new TextEncoder().encode(GO_TOKEN_FILE);
    };
    const result = await readTokenFile("/nowhere/token.json", { readFile });
    expect(seen).toEqual(["/nowhere/token.json"]);
    expect(result.token?.luciMachineToken).toBe(GOLDEN_TOKEN);
  });

  it("warns about an invalid file and returns no token", async () => {
    const path = tmp.path("token.json");
    await writeFile(path, '{"luci_machine_token":"t","extra":1}');
    expect(await readTokenFile(path, { logger })).toEqual({});
    expect(logger.at("warning")).toHaveLength(1);
    expect(logger.at("warning")[0]).toMatch(
      new RegExp(`^Failed to unmarshal token file "${escapeRegExp(path)}" - .*unknown field at line 1$`),
    );
  });

  it("returns the token without a state when tokend_state is bad, with a warning", async () => {
    const path = tmp.path("token.json");
    const bad = Buffer.from('{"InputsDigest":5}').toString("base64");
    await writeFile(path, `{"luci_machine_token":"t","next_update":"9","tokend_state":"${bad}"}`);
    const result = await readTokenFile(path, { logger });
    expect(result.token?.luciMachineToken).toBe("t");
    expect(result.token?.nextUpdate).toBe(9n);
    expect(result.state).toBeUndefined();
    expect(logger.at("warning")).toHaveLength(1);
    expect(logger.at("warning")[0]).toMatch(/^Failed to unmarshal tokend_state - .+/);
  });

  it("refuses a file larger than MAX_TOKEN_FILE_BYTES", async () => {
    const path = tmp.path("token.json");
    await writeFile(path, GO_TOKEN_FILE);
    await truncate(path, MAX_TOKEN_FILE_BYTES + 1); // pads with zero bytes, cheaply
    expect(await readTokenFile(path, { logger })).toEqual({});
    expect(logger.at("warning")[0]).toMatch(
      /^Failed to read token file from .* - file is larger than 1048576 bytes$/,
    );
  });
});

describe.skipIf(!canActAsNobody)("readTokenFile with ownFilesOnly (a tokend's own token)", () => {
  it("treats a token file another user planted as no token, with a warning; shows it otherwise", async () => {
    await chmod(tmp.dir, 0o1777);
    await writeFile(tmp.path("ours.json"), GO_TOKEN_FILE);
    await chmod(tmp.path("ours.json"), 0o644);
    shAsNobody("cp ours.json token.json", tmp.dir);
    const path = tmp.path("token.json");
    expect(await readTokenFile(path, { logger, ownFilesOnly: true })).toEqual({});
    expect(logger.at("warning")).toEqual([
      `Failed to read token file from "${path}" - a file owned by uid 65534 (not this user or root), not trusted`,
    ]);
    expect((await readTokenFile(path)).token?.luciMachineToken).toBe(GOLDEN_TOKEN);
    expect((await readTokenFile(tmp.path("ours.json"), { ownFilesOnly: true })).token?.luciMachineToken).toBe(
      GOLDEN_TOKEN,
    );
  });
});

describe("readCapped", () => {
  it("reads a file of exactly the limit and refuses one byte more", async () => {
    const path = tmp.path("f");
    await writeFile(path, "12345");
    expect(Buffer.from(await readCapped(path, 5)).toString()).toBe("12345");
    await expect(readCapped(path, 4)).rejects.toThrow("file is larger than 4 bytes");
  });

  it("rejects with ENOENT for a missing file", async () => {
    await expect(readCapped(tmp.path("absent"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses a FIFO at once instead of waiting forever for a writer", async () => {
    const fifo = tmp.path("token.json");
    execFileSync("mkfifo", [fifo]);
    const started = performance.now();
    await expect(readCapped(fifo)).rejects.toThrow("not a regular file (it is a FIFO)");
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await readTokenFile(fifo, { logger })).toEqual({});
    expect(logger.at("warning")).toEqual([
      `Failed to read token file from "${fifo}" - not a regular file (it is a FIFO)`,
    ]);
  });

  it("refuses devices and directories, also behind a symlink, without reading them", async () => {
    const link = tmp.path("token.json");
    await symlink("/dev/zero", link);
    await expect(readCapped(link)).rejects.toThrow("not a regular file (it is a character device)");
    await expect(readCapped("/dev/null")).rejects.toThrow("(it is a character device)");
    await expect(readCapped(tmp.dir)).rejects.toThrow("not a regular file (it is a directory)");
  });

  it("caps by the bytes actually read, not by what stat says (/proc files say 0 bytes)", async () => {
    expect((await stat("/proc/self/maps")).size).toBe(0);
    await expect(readCapped("/proc/self/maps", 16)).rejects.toThrow("file is larger than 16 bytes");
    expect((await readCapped("/proc/self/maps")).length).toBeGreaterThan(16);
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
