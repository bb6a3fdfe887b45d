/**
 * The base URL for a `-backend` value (`host[:port]`, no scheme): plain HTTP only for `localhost:`,
 * `127.0.0.1:` and `[::1]:` backends (Go's rule, plus IPv6 loopback), HTTPS for everything else.
 * Throws for a value with a scheme, a path or no host.
 */
export function backendBaseUrl(backend: string): string {
  if (backend === "" || /[/\\\s?#@]/.test(backend)) {
    throw new Error(`-backend ${JSON.stringify(backend)}: expecting host[:port], without a scheme or path`);
  }
  const insecure = ["localhost:", "127.0.0.1:", "[::1]:"].some((p) => backend.startsWith(p));
  const url = `${insecure ? "http" : "https"}://${backend}`;
  try {
    new URL(url);
  } catch {
    throw new Error(`-backend ${JSON.stringify(backend)}: not a valid host[:port]`);
  }
  return url;
}
