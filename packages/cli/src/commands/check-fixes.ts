import { errnoCode, errorMessage } from "@luci-machine-tokend/core/internal";

/**
 * The fix `check` prints after a FAIL line, chosen by what failed (a fix for another problem sends
 * the operator the wrong way). The causes are told apart by error codes, and by the words of our
 * own errors where no code exists (commands/check.test.ts holds one case per cause).
 */

/** A file given by `flag` that cannot be read (missing, unreadable, not a regular file, too big). */
export function unreadableFileFix(flag: string): string {
  const what: Record<string, string> = {
    "-pkey-pem": "the machine's private key",
    "-cert-pem": "the machine's certificate",
    "-pkey-passphrase-file": "the key's passphrase",
  };
  return `give ${flag} the path of a regular file holding ${what[flag] ?? "it"}, readable by this user`;
}

/** Why the key and certificate, both read, do not load as a pair (createX509Signer's KeyLoadError). */
export function keyPairFix(err: unknown, certPath: string): string {
  const message = errorMessage(err);
  if (/the two are swapped/.test(message)) return "swap the paths of -pkey-pem and -cert-pem";
  if (/no passphrase was given/.test(message))
    return "give the key's passphrase with -pkey-passphrase-file FILE";
  if (/cannot decrypt/.test(message)) return "put the key's passphrase in the -pkey-passphrase-file file";
  if (/only RSA keys work/.test(message)) {
    return "the token server takes RSA keys only: make one with `luci-machine-tokend csr` and have the fleet CA certify it";
  }
  if (/must be the first block/.test(message)) {
    return "put the machine's certificate first in the -cert-pem file, then its chain";
  }
  if (/doesn't match the private key/.test(message)) {
    return "give -cert-pem the certificate issued for this key (or -pkey-pem the key it was issued for)";
  }
  return (err as { path?: unknown }).path === certPath
    ? CERTIFICATE_PEM_FIX
    : "give -pkey-pem the machine's RSA private key, as PEM (`luci-machine-tokend csr` makes a key and CSR)";
}

/** A certificate file, read, that does not parse as a certificate. */
export const CERTIFICATE_PEM_FIX = "give -cert-pem the machine's certificate, as PEM";

/** Why a file cannot be created in the token directory `dir`. */
export function tokenDirectoryFix(err: unknown, dir: string): string {
  switch (errnoCode(err)) {
    case "ENOENT":
      return `create ${dir}, writable by this user`;
    case "ENOTDIR":
      return `a part of ${dir} is not a directory: give -token-file a path in a directory`;
    case "EROFS":
      return `${dir} is on a read-only file system: put the token file on a writable one`;
    default:
      return `let this user write to ${dir}`;
  }
}

/** Why a connection to the backend could not even be set up (createBackendConnection). */
export function backendSetupFix(err: unknown): string {
  const message = errorMessage(err);
  if (message.startsWith("-backend ")) return "give -backend as host[:port], with no scheme or path";
  if (message.startsWith("-ca-bundle ")) return "give -ca-bundle a readable PEM file of CA certificates";
  if (message.startsWith("invalid proxy address")) {
    return "fix HTTPS_PROXY (or https_proxy): a URL such as http://proxy:3128, a login's % escaped as %25";
  }
  return "check SSL_CERT_FILE and SSL_CERT_DIR";
}

/** Why the backend could not be reached (the error of the request, before its explanation). */
export function connectionFix(err: unknown, host: string, viaProxy: string | undefined): string {
  const chain = causes(err);
  const code = errnoCode(err);
  if (viaProxy && chain.some((e) => e.message.startsWith(`proxy ${viaProxy}`))) {
    return `the proxy ${viaProxy} refused or failed: check HTTPS_PROXY and NO_PROXY`;
  }
  if (code === "ECONNREFUSED")
    return `nothing listens at ${host}: check the port of -backend and that the server runs`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return `${host.replace(/:\d+$/, "")} does not resolve: check -backend and DNS`;
  }
  // EPROTO when a request was written first, Node's SSL code when the handshake saw the answer.
  const plainHttp = code === "EPROTO" || code === "ERR_SSL_WRONG_VERSION_NUMBER";
  if (plainHttp && chain.some((e) => /wrong version number/i.test(e.message))) {
    return "the server speaks plain HTTP: only localhost:PORT, 127.0.0.1:PORT and [::1]:PORT backends use it";
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return "the server's certificate is for another name: check the host of -backend";
  }
  if (code === "CERT_HAS_EXPIRED") return "the server's certificate has expired: its operator must renew it";
  // OpenSSL's verdicts for a chain that ends at no trusted root (as connection-error-hints.ts).
  if (
    code !== undefined &&
    /^(UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO_SELF_SIGNED|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE)/.test(code)
  ) {
    return "add the CA of the server's certificate with -ca-bundle, SSL_CERT_FILE or SSL_CERT_DIR";
  }
  return "check -backend, DNS, the firewall and HTTPS_PROXY";
}

/** A pRPC server did not answer: something else did. */
export const NOT_PRPC_FIX =
  "-backend must name a LUCI token server; if HTTPS_PROXY is set, check that the proxy passes requests on";

function causes(err: unknown): Error[] {
  const chain: Error[] = [];
  for (let e: unknown = err; e instanceof Error && chain.length < 8; e = e.cause) chain.push(e);
  return chain;
}
