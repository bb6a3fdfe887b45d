/** An Error that looks like a Node file system error with `code`. */
export function fsError(code: string, syscall = "rename"): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected ${syscall} failure`), { code, syscall });
}
