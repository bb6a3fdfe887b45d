/** What {@link handleInterrupts} does to the process; tests pass their own. */
export interface InterruptProcess {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  writeStderr(text: string): void;
  /** Resource names of pending async work (process.getActiveResourcesInfo). */
  activeResources(): string[];
  exit(code: number): void;
  killSelf(): void;
}

/** The real process. */
const realProcess: InterruptProcess = {
  on: (signal, listener) => process.on(signal, listener),
  writeStderr: (text) => process.stderr.write(text),
  activeResources: () => process.getActiveResourcesInfo(),
  exit: (code) => process.exit(code),
  killSelf: () => process.kill(process.pid, "SIGKILL"),
};

/**
 * Work that runs on a libuv thread (file system calls, getaddrinfo, crypto and zlib jobs). Exiting
 * joins those threads, so one stuck in a syscall (open of a FIFO, a hung NFS mount, a slow DNS
 * server) would keep a process that called process.exit (or process.reallyExit) alive.
 */
const THREAD_WORK = /^(FSReq|GetAddrInfo|GetNameInfo|Zlib)|Job$/;

/** How long a second signal waits for pending thread work to finish before SIGKILL. */
const DRAIN_MS = 500;
const DRAIN_POLL_MS = 10;

/** What {@link handleInterrupts} gives back: the way the CLI ends the process. */
export interface Interrupts {
  /** Ends the process with `code`, or 1 if a second signal came (it is ending it already). */
  exit(code: number): void;
}

/**
 * Go's interrupt handling: the first SIGINT/SIGTERM aborts `controller` (the run stops and still
 * writes its status); a second one ends the process at once with exit code 1, after
 * "Got second interrupt signal. Aborting.". Exiting joins libuv's threads, so when thread work is
 * pending (a status file being written), it gets half a second to finish; if it does not (a
 * thread stuck in a syscall), the process kills itself with SIGKILL, since a second signal must
 * always end it.
 */
export function handleInterrupts(
  controller: AbortController,
  proc: InterruptProcess = realProcess,
): Interrupts {
  let interrupts = 0;
  const pending = () => proc.activeResources().some((name) => THREAD_WORK.test(name));
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      controller.abort(new Error("interrupted"));
      return;
    }
    if (interrupts > 2) return; // already ending
    proc.writeStderr("Got second interrupt signal. Aborting.\n");
    const giveUpAt = Date.now() + DRAIN_MS;
    const end = () => {
      if (!pending()) proc.exit(1);
      else if (Date.now() >= giveUpAt) proc.killSelf();
      else setTimeout(end, DRAIN_POLL_MS);
    };
    end();
  };
  proc.on("SIGINT", onSignal);
  proc.on("SIGTERM", onSignal);
  return { exit: (code) => proc.exit(interrupts > 1 ? 1 : code) };
}
