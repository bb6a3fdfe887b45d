import { errnoCode, errorMessage, NotRegularFileError } from "@luci-machine-tokend/core/internal";

/** Go's texts (syscall.Errno) for the errors a file operation meets; libuv words some differently. */
const GO_ERRNO_TEXT: Record<string, string> = {
  EACCES: "permission denied",
  EDQUOT: "disk quota exceeded",
  EEXIST: "file exists",
  EIO: "input/output error",
  EISDIR: "is a directory",
  ELOOP: "too many levels of symbolic links",
  ENOENT: "no such file or directory",
  ENOSPC: "no space left on device",
  ENOTDIR: "not a directory",
  ENXIO: "no such device or address",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
};

/**
 * An fs error as Go's os.PathError prints it: `open /path: permission denied`. Errors without an
 * errno (ours: a FIFO refused, another user's file) keep their own words.
 */
export function goPathError(op: string, path: string, err: unknown): string {
  // A directory is refused before it is opened; Go's open fails on it with EISDIR.
  const code =
    err instanceof NotRegularFileError && err.fileType === "a directory" ? "EISDIR" : errnoCode(err);
  const known = code === undefined ? undefined : GO_ERRNO_TEXT[code];
  const reason =
    known ??
    errorMessage(err)
      .replace(/^E[A-Z]+: /, "")
      .replace(/, \w+ '.*'$/s, "");
  return `${op} ${path}: ${reason}`;
}
