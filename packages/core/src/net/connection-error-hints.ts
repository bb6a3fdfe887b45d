import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { errnoCode } from "../common/fs-errors.js";
import { oneLine } from "../common/one-line.js";
import type { BackendTarget } from "./backend-target.js";

/** OpenSSL's verdicts for a certificate chain that ends at no trusted root. */
const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  // A root with the issuer's name but another key (Go: "signed by unknown authority").
  "CERT_SIGNATURE_FAILURE",
]);

/**
 * An interceptor that says what to do about the connection errors people hit when setting up a
 * machine: a server certificate no trust root vouches for (where the roots came from, and how to
 * add one), and a TLS handshake answered in plain HTTP (a plain-HTTP server named otherwise than
 * `localhost:PORT`, `127.0.0.1:PORT` or `[::1]:PORT`, e.g. `-backend myhost:8080`). The error keeps
 * its code (so it is retried as before, as in Go) and its cause.
 */
export function connectionErrorHints(connection: BackendTarget): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      throw explainConnectionError(err, connection);
    }
  };
}

/**
 * The error with a hint added when it is a server (or proxy) certificate that no trust root vouches
 * for (where the roots came from, how to add one) or a TLS handshake answered in plain HTTP (only
 * loopback backends use plain HTTP), as a ConnectError with the same code and the error as its
 * cause; other errors are returned unchanged.
 */
export function explainConnectionError(err: unknown, connection: BackendTarget): unknown {
  const code = errnoCode(err);
  const chain = causes(err);
  const e = ConnectError.from(err);
  // ConnectProxyAgent names the proxy in the errors of the connection to it.
  const proxy = connection.proxy?.host;
  const viaProxy = chain.some((c) => c.message.startsWith(`proxy ${proxy}:`));
  // EPROTO when a request was written to the connection first, Node's SSL error code otherwise.
  const plainHttp = code === "EPROTO" || code === "ERR_SSL_WRONG_VERSION_NUMBER";
  if (plainHttp && chain.some((c) => /wrong version number/i.test(c.message))) {
    const message = viaProxy
      ? `TLS handshake with the proxy ${proxy} failed: it answered in plain HTTP (write http:// for it in HTTPS_PROXY)`
      : `TLS handshake with ${new URL(connection.baseUrl).host} failed: it answered in plain HTTP (plain HTTP is only used for localhost:, 127.0.0.1: and [::1]: backends)`;
    return new ConnectError(message, e.code, e.metadata, undefined, err);
  }
  const roots = connection.trust?.loaded?.sources.join(", ");
  if (code !== undefined && UNTRUSTED.has(code) && roots !== undefined) {
    return new ConnectError(
      `${oneLine(e.rawMessage)} (the ${viaProxy ? "proxy's" : "server's"} certificate is not trusted by the roots from ${roots}: add its CA with -ca-bundle, SSL_CERT_FILE or SSL_CERT_DIR)`,
      e.code,
      e.metadata,
      undefined,
      err,
    );
  }
  return err;
}

function causes(err: unknown): Error[] {
  const chain: Error[] = [];
  for (let e: unknown = err; e instanceof Error && chain.length < 8; e = e.cause) chain.push(e);
  return chain;
}
