/**
 * Classifies file system errors in one place, the way Go's os.IsPermission does, so outcomes such
 * as SAVE_TOKEN_PERM_ERROR come out the same on every path.
 */

/** The Node error code (`EACCES`, `ENOENT`, …) of an error or of any error in its cause chain. */
export function errnoCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

/** True for EACCES and EPERM: Go's os.IsPermission (Windows' access-denied maps to these too). */
export function isPermissionError(err: unknown): boolean {
  const code = errnoCode(err);
  return code === "EACCES" || code === "EPERM";
}

/** True when a file simply does not exist (Go tokend stays silent about a missing token file). */
export function isNotFoundError(err: unknown): boolean {
  return errnoCode(err) === "ENOENT";
}

/**
 * The message of anything thrown, never `undefined`: an Error's message, or the value as text (a
 * thrown string, a rejected number). The one way this project reads a caught value's message.
 */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Node's reason for an fs error without the syscall and the paths it names: `EACCES: permission
 * denied` from `EACCES: permission denied, open '/d/token.json.4242_1_0.tmp'`. Callers name the
 * file the person knows (the token file, not its temp or lock file) after the reason.
 */
export function fsErrorReason(err: unknown): string {
  const message = errorMessage(err);
  const syscall = (err as NodeJS.ErrnoException | undefined)?.syscall;
  const at = syscall ? message.indexOf(`, ${syscall} '`) : -1;
  return at === -1 ? message : message.slice(0, at);
}

/**
 * An error that puts the real reason first and names `path` (the file the person asked for), with
 * the original as `cause` and its `code`, so outcomes (os.IsPermission) stay the same.
 */
export function fsErrorOn(err: unknown, doing: string, path: string): Error {
  const code = errnoCode(err);
  return Object.assign(new Error(`${fsErrorReason(err)} (${doing} ${path})`, { cause: err }), {
    ...(code === undefined ? {} : { code }),
  });
}
