import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { handleInterrupts, type InterruptProcess } from "./interrupts.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const source = fileURLToPath(new URL("./interrupts.ts", import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tokend-interrupts-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A fake process that records what the handler did. */
function fakeProcess(resources: string[]) {
  const listeners = new Map<string, () => void>();
  const did: string[] = [];
  const proc: InterruptProcess = {
    on: (signal, listener) => listeners.set(signal, listener),
    writeStderr: (text) => did.push(`stderr ${text.trim()}`),
    activeResources: () => resources,
    exit: (code) => did.push(`exit ${code}`),
    killSelf: () => did.push("SIGKILL"),
  };
  return { proc, did, signal: (name: string) => listeners.get(name)?.() };
}

/** Runs the real handler in a child that then waits on `work`; returns how it ended after two SIGTERMs. */
async function twoSigterms(work: string) {
  const script = `
    const { handleInterrupts } = await import(${JSON.stringify(source)});
    const controller = new AbortController();
    handleInterrupts(controller);
    controller.signal.addEventListener("abort", () => process.stdout.write("aborted\\n"));
    ${work}
    process.stdout.write("ready\\n");
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d;
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve) =>
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
      if (stdout.includes("ready")) resolve();
    }),
  );
  child.kill("SIGTERM");
  await new Promise<void>((resolve) =>
    child.stdout.on("data", () => {
      if (stdout.includes("aborted")) resolve();
    }),
  );
  const started = Date.now();
  child.kill("SIGTERM");
  const end = await ended;
  clearTimeout(killer);
  return { ...end, ms: Date.now() - started, stderr };
}

describe("handleInterrupts", () => {
  it("aborts on the first signal, exits 1 on the second, as Go", () => {
    const controller = new AbortController();
    const fake = fakeProcess(["TTYWrap", "Timeout"]);
    handleInterrupts(controller, fake.proc);
    fake.signal("SIGTERM");
    expect(controller.signal.aborted).toBe(true);
    expect(fake.did).toEqual([]);
    fake.signal("SIGINT");
    expect(fake.did).toEqual(["stderr Got second interrupt signal. Aborting.", "exit 1"]);
  });

  it.each([["FSReqPromise"], ["FSReqCallback"], ["GetAddrInfoReqWrap"], ["PBKDF2Job"], ["Zlib"]])(
    "on the second signal, waits for %s on a libuv thread to finish, then exits 1",
    async (resource) => {
      const resources = ["Timeout", resource];
      const fake = fakeProcess(resources);
      handleInterrupts(new AbortController(), fake.proc);
      fake.signal("SIGTERM");
      fake.signal("SIGTERM");
      expect(fake.did).toEqual(["stderr Got second interrupt signal. Aborting."]);
      await new Promise((r) => setTimeout(r, 50));
      resources.pop();
      await new Promise((r) => setTimeout(r, 50));
      expect(fake.did).toEqual(["stderr Got second interrupt signal. Aborting.", "exit 1"]);
    },
  );

  it("kills itself when thread work is still pending half a second after the second signal", async () => {
    const fake = fakeProcess(["FSReqPromise"]);
    handleInterrupts(new AbortController(), fake.proc);
    fake.signal("SIGTERM");
    const started = Date.now();
    fake.signal("SIGTERM");
    while (fake.did.length < 2) await new Promise((r) => setTimeout(r, 10));
    expect(fake.did).toEqual(["stderr Got second interrupt signal. Aborting.", "SIGKILL"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it("makes the CLI's own exit code 1 once a second signal came", () => {
    const fake = fakeProcess(["FSReqPromise"]);
    const interrupts = handleInterrupts(new AbortController(), fake.proc);
    interrupts.exit(0);
    fake.signal("SIGTERM");
    interrupts.exit(0);
    fake.signal("SIGTERM");
    interrupts.exit(0);
    expect(fake.did).toEqual(["exit 0", "exit 0", "stderr Got second interrupt signal. Aborting.", "exit 1"]);
  });

  it("a real process waiting on a timer exits with code 1 on the second SIGTERM", async () => {
    const end = await twoSigterms("setInterval(() => {}, 1000);");
    expect(end).toMatchObject({ code: 1, signal: null });
    expect(end.stderr).toContain("Got second interrupt signal. Aborting.");
  });

  it("a real process with a thread stuck in open() of a FIFO still ends on the second SIGTERM", async () => {
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    // A plain blocking open parks a libuv thread until a writer comes: process.exit would wait for it.
    const end = await twoSigterms(`(await import("node:fs/promises")).open(${JSON.stringify(fifo)}, "r");`);
    expect(end.signal).toBe("SIGKILL");
    expect(end.ms).toBeLessThan(2000);
    expect(end.stderr).toContain("Got second interrupt signal. Aborting.");
  });
});
