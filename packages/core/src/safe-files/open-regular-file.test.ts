import { execFileSync } from "node:child_process";
import { chmod, symlink, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readRegularFileSync } from "../net/read-cert-files.js";
import { canActAsNobody, shAsNobody, spawnAsNobody } from "../testing/as-nobody.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { readCapped } from "../token-file/read-token-file.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir();
});
afterEach(() => tmp.remove());

/** Both readers: readCapped (token, key, cert, …) and its synchronous twin (trust roots). */
const readers: Array<[string, (path: string) => Promise<string>]> = [
  ["readCapped", async (p) => Buffer.from(await readCapped(p)).toString()],
  ["readRegularFileSync", async (p) => readRegularFileSync(p).toString()],
];

describe.each(readers)("%s", (_name, read) => {
  it("follows our own symlinks, link by link, a relative target from the link's directory", async () => {
    await writeFile(tmp.path("real"), "content");
    await symlink("real", tmp.path("one"));
    await symlink(tmp.path("one"), tmp.path("two"));
    expect(await read(tmp.path("two"))).toBe("content");
  });

  it("gives up after 8 symlinks (ELOOP)", async () => {
    await writeFile(tmp.path("l0"), "x");
    for (let i = 1; i <= 9; i++) await symlink(`l${i - 1}`, tmp.path(`l${i}`));
    expect(await read(tmp.path("l8"))).toBe("x");
    await expect(read(tmp.path("l9"))).rejects.toMatchObject({ code: "ELOOP" });
  });

  it("refuses a device or a directory behind our own symlink", async () => {
    await symlink("/dev/zero", tmp.path("zero"));
    await expect(read(tmp.path("zero"))).rejects.toThrow("not a regular file (it is a character device)");
    await symlink(tmp.dir, tmp.path("dir"));
    await expect(read(tmp.path("dir"))).rejects.toThrow("not a regular file (it is a directory)");
  });
});

/** A FIFO whose writer numbers the readers that opened it, writing the number to each. */
function fifoWithCountingWriter(dir: string) {
  shAsNobody("mkfifo fifo", dir);
  const writer = spawnAsNobody(
    "trap '' PIPE; n=0; while :; do exec 3>fifo; n=$((n+1)); echo $n >&3 2>/dev/null; exec 3>&-; done",
    dir,
  );
  return {
    /** Opens the FIFO ourselves and reads how many opens there were, ours included. */
    opens: () => Number(execFileSync("head", ["-n1", "fifo"], { cwd: dir, encoding: "utf8" })),
    stop: () => writer.stop(),
  };
}

describe.skipIf(!canActAsNobody)("files another user planted in a directory anyone may write (1777)", () => {
  beforeEach(() => chmod(tmp.dir, 0o1777));

  it.each(readers)(
    "%s does not follow a symlink of another user, even to a regular file",
    async (_n, read) => {
      shAsNobody("echo planted > theirs && ln -s theirs token.json", tmp.dir);
      await expect(read(tmp.path("token.json"))).rejects.toThrow(
        "a symbolic link owned by uid 65534 (not this user or root), not followed",
      );
      shAsNobody("ln -s /etc/shadow shadow.json", tmp.dir);
      await expect(read(tmp.path("shadow.json"))).rejects.toThrow("owned by uid 65534");
    },
  );

  it.each(readers)(
    "%s never opens a FIFO behind a symlink: its waiting writer is not woken",
    async (_n, read) => {
      const fifo = fifoWithCountingWriter(tmp.dir);
      try {
        await symlink("fifo", tmp.path("ours.json"));
        shAsNobody("ln -s fifo theirs.json", tmp.dir);
        await expect(read(tmp.path("fifo"))).rejects.toThrow("not a regular file (it is a FIFO)");
        await expect(read(tmp.path("ours.json"))).rejects.toThrow("not a regular file (it is a FIFO)");
        await expect(read(tmp.path("theirs.json"))).rejects.toThrow("owned by uid 65534");
        expect(fifo.opens()).toBe(1); // only the test's own open
      } finally {
        fifo.stop();
      }
    },
  );

  it("an attacker swapping a symlink between a regular file and a FIFO gets nothing read and the FIFO never opened", async () => {
    // The reviewer's race: readCapped used to stat() then open() the path, both following symlinks.
    await writeFile(tmp.path("regular"), "{}");
    const fifo = fifoWithCountingWriter(tmp.dir);
    const swapper = spawnAsNobody(
      "while :; do ln -sfn regular t.n && mv -T t.n token.json; ln -sfn fifo t.n && mv -T t.n token.json; done",
      tmp.dir,
    );
    const outcomes = { read: 0, refused: 0 };
    try {
      const until = performance.now() + 1000;
      while (performance.now() < until) {
        await readCapped(tmp.path("token.json")).then(
          () => outcomes.read++,
          () => outcomes.refused++,
        );
      }
      swapper.stop();
      expect(outcomes.read).toBe(0);
      expect(outcomes.refused).toBeGreaterThan(10);
      expect(fifo.opens()).toBe(1);
    } finally {
      swapper.stop();
      fifo.stop();
    }
  });

  it("a file swapped for a FIFO between the lstat and the open: never blocks, never read as the file", async () => {
    // Regular files of another user are read (keys may be theirs), so here the attacker swaps
    // hard links of their own regular file and of a FIFO nobody writes: the race that O_NONBLOCK
    // (an open that would block forever) and the fstat check (a FIFO read as empty) are for.
    shAsNobody("echo '{}' > regular && mkfifo fifo", tmp.dir);
    const swapper = spawnAsNobody(
      "while :; do ln -f regular t.n && mv -T t.n token.json; ln -f fifo t.n && mv -T t.n token.json; done",
      tmp.dir,
    );
    const outcomes = { read: 0, fifo: 0, changing: 0 };
    try {
      const until = performance.now() + 1000;
      while (performance.now() < until) {
        await readCapped(tmp.path("token.json")).then(
          (bytes) => {
            expect(Buffer.from(bytes).toString()).toBe("{}\n");
            outcomes.read++;
          },
          (err: Error) => {
            if (/kept changing/.test(err.message)) outcomes.changing++;
            else if (/not a regular file \(it is a FIFO\)/.test(err.message)) outcomes.fifo++;
            else if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
          },
        );
      }
      expect(swapper.exited()).toBe(false);
      expect(outcomes.read).toBeGreaterThan(0);
      expect(outcomes.fifo).toBeGreaterThan(0);
    } finally {
      swapper.stop();
    }
  });

  it("reads a regular file of another user (keys and certificates may be theirs), not through their links", async () => {
    shAsNobody("echo theirs > cert.pem", tmp.dir);
    expect(Buffer.from(await readCapped(tmp.path("cert.pem"))).toString()).toBe("theirs\n");
    execFileSync("ln", ["-s", "cert.pem", tmp.path("ours.pem")]);
    expect(readRegularFileSync(tmp.path("ours.pem")).toString()).toBe("theirs\n");
  });
});
