import type { Client } from "@connectrpc/connect";
import type { TokenMinter } from "../gen/tokenserver/minter/token_minter_pb.js";
import { resolveBackendTarget } from "../net/backend-target.js";
import { filePathProblem } from "../safe-files/file-path-problem.js";
import type { TokenMinterClientOptions } from "./token-minter-client-options.js";

export type { TokenMinterClientOptions } from "./token-minter-client-options.js";

/** The transport, loaded at the first call: it needs Connect and protobuf-es. */
let transport: Promise<typeof import("./token-minter-transport.js")> | undefined;

/**
 * The buf-generated TokenMinter client for a `-backend` value (`host[:port]`), over pRPC unless
 * told otherwise, connected as Go's client connects:
 * - plain HTTP for `localhost:`, `127.0.0.1:` and `[::1]:` backends, HTTPS for all others;
 * - HTTPS verified with the system's trust roots (SSL_CERT_FILE and SSL_CERT_DIR replace them;
 *   Node's bundled roots where the system has none) plus `caBundle`, NODE_EXTRA_CA_CERTS and
 *   `extraCaPems`, read once when the client is made;
 * - through the proxy HTTPS_PROXY names (`http://`, `https://`, `socks5://`), unless NO_PROXY
 *   excludes the backend; loopback is never proxied.
 * The environment is `options.env`, default `process.env`. Connection errors that come from a
 * setup mistake (an untrusted certificate, plain HTTP where TLS was expected) say what to fix.
 *
 * The setup is checked here; Connect, protobuf-es and the transport are loaded at the first call.
 *
 * @throws Error for a bad `-backend`, a bad proxy address in the environment, an unreadable
 * `caBundle` (TypeError for PEM text in its place), or a proxy with `protocol: "grpc"` (HTTP/2
 * is not sent through proxies).
 */
export function createTokenMinterClient(
  backend: string,
  options: TokenMinterClientOptions = {},
): Client<typeof TokenMinter> {
  // A PEM file's contents in place of its path would be quoted in the error of reading it.
  const notPath = options.caBundle === undefined ? undefined : filePathProblem(options.caBundle);
  if (notPath !== undefined) throw new TypeError(`createTokenMinterClient: caBundle is ${notPath}`);
  const target = resolveBackendTarget(backend, options);
  if (options.protocol === "grpc" && target.proxy) {
    throw new Error(
      `-protocol grpc cannot go through the proxy ${target.proxy.host} (HTTP/2): use prpc, connect or grpc-web, or exclude the backend with NO_PROXY`,
    );
  }
  let client: Promise<Client<typeof TokenMinter>> | undefined;
  const connected = () => {
    transport ??= import("./token-minter-transport.js");
    client ??= transport.then((m) => m.connectTokenMinter(target, options));
    return client;
  };
  return {
    mintMachineToken: async (request, callOptions) =>
      (await connected()).mintMachineToken(request, callOptions),
  };
}
