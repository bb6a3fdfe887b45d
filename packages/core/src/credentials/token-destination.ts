import { isLoopback } from "../net/proxy-from-env.js";

/**
 * Throws unless a machine token may be sent to `url`: over HTTPS, or plain HTTP to this machine
 * (`localhost`, 127.0.0.0/8, `[::1]`), where nobody on the network can read it. The message names
 * the origin, never the token.
 */
export function assertTokenDestination(url: URL): void {
  if (url.protocol === "https:") return;
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  // `localhost` exactly: `x.localhost` may go to DNS (without nss-myhostname) and off the machine.
  if (url.protocol === "http:" && !host.endsWith(".localhost") && isLoopback(host)) return;
  throw new TypeError(
    `not sending the machine token to ${url.protocol}//${url.host}: only https URLs (or http to localhost) may carry it`,
  );
}
