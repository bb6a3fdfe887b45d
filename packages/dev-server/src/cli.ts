import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { Code } from "@connectrpc/connect";
import { ErrorCode } from "@luci-machine-tokend/core/gen";
import { errorMessage, parseGoDuration } from "@luci-machine-tokend/core/internal";
import { prodxInsertLine } from "./fake-prodx.js";
import type { FaultSettings, HttpFault } from "./faults.js";
import { formatLogLine } from "./log-line.js";
import type { DevServerOptions, DomainOptions } from "./options.js";
import { startDevServer } from "./start-dev-server.js";

/** Where the dev-server command writes, and what stops it. */
export interface DevServerCliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Aborted on SIGINT/SIGTERM: the server closes and the command returns 0. */
  signal?: AbortSignal;
}

/** Usage of `luci-machine-tokend dev-server`. */
export const DEV_SERVER_USAGE = `Usage: luci-machine-tokend dev-server --listen HOST:PORT --ca-cert FILE --domain DOMAIN=LIFETIME [options]

A local LUCI token server (TokenMinter) for tests and demos: pRPC (binary, JSON or text, gzip
bodies), Connect and gRPC-web on the --listen port (HTTP/1.1), every protocol including gRPC on the
--grpc-listen port (cleartext HTTP/2). Serves until SIGINT or SIGTERM.

  --listen HOST:PORT        HTTP/1.1 address (default 127.0.0.1:0, any free port)
  --grpc-listen HOST:PORT   HTTP/2 address (default the same host, any free port); --no-grpc disables it
  --ca-cert FILE            a trusted CA certificate (PEM); repeatable
  --domain DOMAIN=LIFETIME  machines in DOMAIN (and its subdomains) get tokens living LIFETIME (Go duration, e.g. 1h); repeatable
  --crl FILE                revoked serials: an X.509 CRL (PEM) signed by a configured CA, or one hex serial per line
  --service-version APP/VER service_version in answers (default dev-token-server/0.1.0)
  --issued-by EMAIL         issued_by of minted tokens
  --signing-key FILE        RSA key (PEM) that signs tokens (default: a new key)
  --prodx-listen HOST:PORT  also stand in for ProdX, ts-mon's monitoring API: gRPC over TLS on this
                            address (the --listen host), Insert calls decoded and logged; needs:
  --prodx-cert FILE         its TLS certificate (PEM; clients must trust its CA, e.g. SSL_CERT_FILE)
  --prodx-key FILE          its TLS private key (PEM)
  --quiet                   no log line per call (by default each call is logged to stderr, with
                            why a certificate was not trusted; clients only get LUCI's generic answer)
Limits:
  --max-request-bytes N     largest request message, as sent and once decompressed (default 1048576)
  --memory-budget N         bytes all calls may hold at once, across connections and HTTP/2 streams: 24 KiB
                            a call (more with large headers), its body, room to inflate it, and the
                            certificate cache (a quarter at most); a call that does not fit is answered
                            UNAVAILABLE, after stalled uploads older than it are dropped if that makes
                            room (default 67108864, or twice --max-request-bytes if that is more; never
                            less than twice it)
  --max-connections N       open connections per port; when full, the longest-idle one is closed, or the
                            new one refused if none has been idle for 0.5s (default 1000)
  --idle-timeout D          close connections without a call in flight after D (default 30s)
  --request-timeout D       drop a request whose headers and body have not arrived after D (default 30s;
                            HTTP/1.1 headers get min(10s, D))
  (HTTP/2 connections may have 8 calls at once; clients queue the rest)
Faults:
  --latency D | DMIN-DMAX   added latency per call (Go durations)
  --fail-next N:CODE        fail the next N calls with gRPC CODE (a number or a name such as UNAVAILABLE)
  --proxy-error STATUS[:N]  answer an HTML proxy page with STATUS (e.g. 502), without pRPC headers
  --reset-next N            reset the connection mid-response
  --truncate-next N         send half the body, then close
  --oversize-next N         send a 33 MiB body
  --wrong-content-type-next N  answer with Content-Type text/html
  --error-code NAME[:N]     answer a LUCI ErrorCode (e.g. BAD_TIMESTAMP)
  --clock-offset D          run the server clock ahead (or behind, -D)
  --token-lifetime D        mint tokens with this lifetime
`;

/**
 * `luci-machine-tokend dev-server …`: starts the dev server from flags, prints its addresses, and
 * serves until the signal aborts. Returns the exit code: 0 after a clean stop, 2 for bad flags,
 * 1 when the server cannot start.
 */
export async function runDevServerCli(argv: string[], io: DevServerCliIo): Promise<number> {
  let options: DevServerOptions;
  try {
    const parsed = parseDevServerArgs(argv);
    if (parsed === "help") {
      io.stdout(DEV_SERVER_USAGE);
      return 0;
    }
    const { quiet, ...rest } = await parsed;
    options = rest;
    if (!quiet) options.onRequest = (entry) => io.stderr(`dev-server: ${formatLogLine(entry)}\n`);
    if (!quiet && options.prodx)
      options.prodx.onInsert = (insert) => io.stderr(`dev-server: ${prodxInsertLine(insert)}\n`);
  } catch (err) {
    // A missing required flag is one line; a malformed one gets the usage too.
    const usage = err instanceof RequiredFlagError ? "" : `\n${DEV_SERVER_USAGE}`;
    io.stderr(`dev-server: ${errorMessage(err)}\n${usage}`);
    return 2;
  }
  let server: Awaited<ReturnType<typeof startDevServer>>;
  try {
    server = await startDevServer(options);
  } catch (err) {
    io.stderr(`dev-server: cannot start: ${errorMessage(err)}\n`);
    return 1;
  }
  const grpc = server.grpcBackend ? `; gRPC (h2c) on ${server.grpcBackend}` : "";
  const prodx = server.prodx ? `; ProdX (gRPC over TLS) at ${server.prodx.endpoint}` : "";
  io.stdout(`dev-server listening on ${server.backend} (pRPC, Connect, gRPC-web)${grpc}${prodx}\n`);
  await new Promise<void>((resolve) => {
    if (!io.signal || io.signal.aborted) return resolve();
    io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await server.close();
  io.stdout("dev-server stopped\n");
  return 0;
}

/** A server without CAs or domains would refuse every machine: it is not started. */
class RequiredFlagError extends Error {
  constructor(flag: string, what: string) {
    super(`${flag} is required (${what}); luci-machine-tokend dev-server -h lists the flags`);
  }
}

/** Turns flags into options; throws an Error naming the bad flag. */
function parseDevServerArgs(argv: string[]): "help" | Promise<DevServerOptions & { quiet: boolean }> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: "boolean", short: "h" },
      listen: { type: "string" },
      "grpc-listen": { type: "string" },
      "no-grpc": { type: "boolean" },
      "ca-cert": { type: "string", multiple: true },
      domain: { type: "string", multiple: true },
      crl: { type: "string" },
      "service-version": { type: "string" },
      "issued-by": { type: "string" },
      "signing-key": { type: "string" },
      quiet: { type: "boolean" },
      "max-request-bytes": { type: "string" },
      "memory-budget": { type: "string" },
      "max-connections": { type: "string" },
      "idle-timeout": { type: "string" },
      "request-timeout": { type: "string" },
      latency: { type: "string" },
      "fail-next": { type: "string" },
      "proxy-error": { type: "string" },
      "reset-next": { type: "string" },
      "truncate-next": { type: "string" },
      "oversize-next": { type: "string" },
      "wrong-content-type-next": { type: "string" },
      "error-code": { type: "string" },
      "clock-offset": { type: "string" },
      "token-lifetime": { type: "string" },
      "prodx-listen": { type: "string" },
      "prodx-cert": { type: "string" },
      "prodx-key": { type: "string" },
    },
  });
  if (values.help) return "help";
  return (async () => {
    const listen = hostPort("--listen", values.listen ?? "127.0.0.1:0");
    // A server left running keeps only a short log: nobody reads it from the command line.
    const options: DevServerOptions = { host: listen.host, port: listen.port, requestLogLimit: 100 };
    if (values["no-grpc"]) options.grpcPort = false;
    else if (values["grpc-listen"]) {
      const g = hostPort("--grpc-listen", values["grpc-listen"]);
      if (g.host !== listen.host) throw new Error("--grpc-listen must use the --listen host");
      options.grpcPort = g.port;
    }
    options.caCertificates = await Promise.all(
      (values["ca-cert"] ?? []).map((f) => readFlagFile("--ca-cert", f)),
    );
    options.domains = (values.domain ?? []).map(domainFlag);
    if (values.crl) {
      const text = await readFlagFile("--crl", values.crl);
      if (text.includes("-----BEGIN X509 CRL-----")) options.crlPem = text;
      else
        options.revokedSerials = text
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter((l) => l !== "" && !l.startsWith("#"));
    }
    if (values["service-version"]) options.serviceVersion = values["service-version"];
    if (values["issued-by"]) options.issuedBy = values["issued-by"];
    if (values["signing-key"])
      options.signingKeyPem = await readFlagFile("--signing-key", values["signing-key"]);
    options.faults = faultFlags(values);
    if (values["prodx-listen"] || values["prodx-cert"] || values["prodx-key"]) {
      const p = hostPort("--prodx-listen", values["prodx-listen"] ?? "");
      if (p.host !== listen.host) throw new Error("--prodx-listen must use the --listen host");
      if (!values["prodx-cert"] || !values["prodx-key"])
        throw new Error("--prodx-listen needs --prodx-cert FILE and --prodx-key FILE");
      options.prodx = {
        port: p.port,
        tls: {
          certPem: await readFlagFile("--prodx-cert", values["prodx-cert"]),
          keyPem: await readFlagFile("--prodx-key", values["prodx-key"]),
        },
      };
    }
    Object.assign(options, limitFlags(values));
    if (options.caCertificates.length === 0)
      throw new RequiredFlagError("--ca-cert FILE", "the CA that issued the machines' certificates");
    if (options.domains.length === 0)
      throw new RequiredFlagError(
        "--domain DOMAIN=LIFETIME",
        "which machines get tokens, e.g. example.com=1h",
      );
    return { ...options, quiet: values.quiet === true };
  })();
}

function limitFlags(values: Record<string, string | boolean | string[] | undefined>): DevServerOptions {
  const str = (k: string) => values[k] as string | undefined;
  const limits: DevServerOptions = {};
  const maxRequest = str("max-request-bytes");
  if (maxRequest !== undefined) limits.maxRequestBytes = count("--max-request-bytes", maxRequest);
  const budget = str("memory-budget");
  if (budget !== undefined) limits.memoryBudgetBytes = count("--memory-budget", budget);
  const maxConnections = str("max-connections");
  if (maxConnections !== undefined) limits.maxConnections = count("--max-connections", maxConnections);
  const idle = str("idle-timeout");
  if (idle !== undefined) limits.idleTimeoutMs = positiveDuration("--idle-timeout", idle);
  const request = str("request-timeout");
  if (request !== undefined) limits.requestTimeoutMs = positiveDuration("--request-timeout", request);
  return limits;
}

function positiveDuration(flag: string, text: string): number {
  const ms = Math.ceil(duration(flag, text));
  if (!(ms > 0)) throw new Error(`${flag} ${text}: expecting a positive duration such as 30s`);
  return ms;
}

function faultFlags(values: Record<string, string | boolean | string[] | undefined>): FaultSettings {
  const faults: FaultSettings = {};
  const str = (k: string) => values[k] as string | undefined;
  const latency = str("latency");
  if (latency) {
    const [min, max] = latency.split("-").map((d) => duration("--latency", d));
    faults.latencyMs = max === undefined ? (min ?? 0) : { min: min ?? 0, max };
  }
  const failNext = str("fail-next");
  if (failNext) {
    const [n, code] = failNext.split(":");
    faults.grpcError = { code: grpcCode(code ?? ""), times: count("--fail-next", n) };
  }
  const proxy = str("proxy-error");
  if (proxy) {
    const [status, n] = proxy.split(":");
    const code = Number(status);
    if (!(code >= 400 && code <= 599))
      throw new Error(`--proxy-error ${proxy}: expecting an HTTP status such as 502`);
    faults.httpFault = {
      kind: "proxy-html",
      status: code,
      ...(n !== undefined && { times: count("--proxy-error", n) }),
    };
  }
  const shapes: Array<[string, HttpFault["kind"]]> = [
    ["reset-next", "reset"],
    ["truncate-next", "truncate"],
    ["oversize-next", "oversize"],
    ["wrong-content-type-next", "wrong-content-type"],
  ];
  for (const [flag, kind] of shapes) {
    const n = str(flag);
    if (n) faults.httpFault = { kind, times: count(`--${flag}`, n) } as HttpFault & { times: number };
  }
  const errorCode = str("error-code");
  if (errorCode) {
    const [name = "", n] = errorCode.split(":");
    const code = (ErrorCode as unknown as Record<string, number>)[name];
    if (code === undefined || code === 0)
      throw new Error(`--error-code ${name}: not a LUCI ErrorCode such as BAD_TIMESTAMP`);
    faults.errorCode = { code, ...(n !== undefined && { times: count("--error-code", n) }) };
  }
  const offset = str("clock-offset");
  if (offset) faults.clockOffsetMs = duration("--clock-offset", offset);
  const lifetime = str("token-lifetime");
  if (lifetime) faults.tokenLifetimeMs = duration("--token-lifetime", lifetime);
  return faults;
}

function hostPort(flag: string, text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (!m) throw new Error(`${flag} ${text}: expecting HOST:PORT`);
  return { host: m[1] ?? m[2] ?? "127.0.0.1", port: Number(m[3]) };
}

function domainFlag(text: string): DomainOptions {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new Error(`--domain ${text}: expecting DOMAIN=LIFETIME, e.g. example.com=1h`);
  return { domain: text.slice(0, eq), lifetimeMs: duration("--domain", text.slice(eq + 1)) };
}

function duration(flag: string, text: string): number {
  const d = parseGoDuration(text);
  if (d.error !== undefined) throw new Error(`${flag} ${text}: ${d.error}`);
  return d.value;
}

function count(flag: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${flag}: expecting a positive count, got ${JSON.stringify(text)}`);
  return n;
}

function grpcCode(text: string): Code {
  if (/^\d+$/.test(text) && Number(text) > 0 && Number(text) <= 16) return Number(text) as Code;
  const camel = text.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());
  const code = (Code as unknown as Record<string, number>)[camel];
  if (code === undefined)
    throw new Error(
      `--fail-next: ${JSON.stringify(text)} is not a gRPC code (1-16 or a name like UNAVAILABLE)`,
    );
  return code as Code;
}

async function readFlagFile(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new Error(`${flag} ${path}: ${errorMessage(err)}`);
  }
}
