import type { FakeProdxOptions } from "./fake-prodx.js";
import type { FaultSettings } from "./faults.js";
import type { FakeGceMetadataOptions } from "./google/fake-gce-metadata.js";
import type { FakeIamCredentialsOptions } from "./google/fake-iam-credentials.js";
import type { FakeOAuthServerOptions } from "./google/fake-oauth-server.js";
import type { RecordedRequest } from "./request-log.js";
import { parseHexSerial } from "./serial.js";
import type { DomainConfig } from "./trust-store.js";

/** Domains whose machines may get tokens, and the token lifetime (LUCI's DomainConfig). */
export interface DomainOptions {
  /** A domain or several; `example.com` also matches machines in `bots.example.com`. */
  domain: string | string[];
  /** Token lifetime in milliseconds, floored to seconds; <= 0 refuses tokens for these domains. */
  lifetimeMs: number;
}

/** A trusted CA (LUCI's CertificateAuthorityConfig). */
export interface CertificateAuthorityOptions {
  /** The CA certificate, PEM. Machines find it by the issuer CN of their certificate. */
  certPem: string;
  /** unique_id, copied into tokens as ca_id. Default: position in the list, from 1. */
  id?: number | bigint;
  /** Domains this CA vouches for. Default: {@link DevServerOptions.domains}. */
  domains?: DomainOptions[];
}

/** Options of startDevServer; all optional. */
export interface DevServerOptions {
  /** Trusted CAs, as PEM text or with their own settings. Default none: every certificate is untrusted. */
  caCertificates?: Array<string | CertificateAuthorityOptions>;
  /** Domains of CAs without their own list. Default none: every machine gets BAD_TOKEN_ARGUMENTS. */
  domains?: DomainOptions[];
  /** Serials revoked whatever CA issued them (bigint, or hex text like `1a2b`). */
  revokedSerials?: Array<bigint | string>;
  /** X.509 CRLs (PEM, one or more blocks per string), each signed by the configured CA it names. */
  crlPem?: string | string[];
  /** The server clock; default the real time. */
  now?: () => Date;
  /** Listen address of the HTTP/1.1 port (pRPC, Connect, gRPC-web). Default `127.0.0.1`. */
  host?: string;
  /** HTTP/1.1 port; default 0 (any free port). */
  port?: number;
  /**
   * Port of the cleartext HTTP/2 listener on the same host (gRPC, and every other protocol too).
   * Default 0 (any free port); false: no HTTP/2 listener.
   */
  grpcPort?: number | false;
  /** `<app-id>/<version>` sent as service_version. Default {@link DEFAULT_SERVICE_VERSION}. */
  serviceVersion?: string;
  /** Service account email written as issued_by. Default {@link DEFAULT_ISSUED_BY}. */
  issuedBy?: string;
  /** RSA key (PEM) that signs tokens. Default: a new 2048-bit key (pass one to skip keygen). */
  signingKeyPem?: string;
  /** Certificate of the signing key. Default: self-signed, CN = issuedBy. */
  signingCertificatePem?: string;
  /** Faults active from the start. */
  faults?: FaultSettings;
  /** Random source of random latencies; default Math.random. */
  random?: () => number;
  /** How many calls `requests` keeps (the newest). Default 10,000. */
  requestLogLimit?: number;
  /** Called with each call's log entry as it is recorded (e.g. to print a log line). */
  onRequest?: (entry: RecordedRequest) => void;
  /**
   * Largest request message, in bytes, as sent and again once decompressed, on every protocol.
   * Default 1 MiB: a MintMachineToken request is 1-2 KB (LUCI's own default is 64 MiB).
   */
  maxRequestBytes?: number;
  /**
   * One memory budget for the whole server, in bytes, across every connection and HTTP/2 stream:
   * each call's own cost (24 KiB, more with large headers), its body as it arrives, room to inflate a compressed one (all
   * returned when the call ends), and the certificate cache (at most a quarter). A call that does
   * not fit is answered UNAVAILABLE at once, after evicting stalled uploads older than it if that
   * makes room. At least twice `maxRequestBytes` (a compressed request takes it twice). Default
   * 64 MiB, or twice `maxRequestBytes` if that is more.
   */
  memoryBudgetBytes?: number;
  /**
   * Open connections per listener. When full, a new connection closes the longest-idle one (no
   * call in flight for at least 0.5 s), or is refused if there is none. Default 1,000.
   */
  maxConnections?: number;
  /** A connection (HTTP/1.1) or session (HTTP/2) without a call in flight closes after this. Default 30 s. */
  idleTimeoutMs?: number;
  /** HTTP/1.1: time for a request's headers to arrive once it started. Default 10 s, or `requestTimeoutMs` if shorter. */
  headersTimeoutMs?: number;
  /** Also stand in for Google's OAuth token endpoint (startFakeOAuthServer), on the same host. Default: none. */
  googleOAuth?: Omit<FakeOAuthServerOptions, "host">;
  /** Also stand in for the GCE metadata server (startFakeGceMetadata), on the same host. Default: none. */
  gceMetadata?: Omit<FakeGceMetadataOptions, "host">;
  /** Also stand in for IAM Credentials' generateAccessToken (startFakeIamCredentials). Default: none. */
  iamCredentials?: Omit<FakeIamCredentialsOptions, "host">;
  /**
   * Also stand in for ProdX, the ts-mon monitoring API (see startFakeProdx): gRPC over TLS with
   * this identity, on the same host. Default: no ProdX.
   */
  prodx?: Omit<FakeProdxOptions, "host">;
  /** Time for a whole request (headers and body) to arrive; then it is dropped. Default 30 s; at most 2^31-1 ms, as every delay here (a Node timer's limit). */
  requestTimeoutMs?: number;
}

/** service_version when none is configured. */
export const DEFAULT_SERVICE_VERSION = "dev-token-server/0.1.0";

/** issued_by when none is configured. */
export const DEFAULT_ISSUED_BY = "dev-token-server@example.com";

/** The memory budget when none is configured (and maxRequestBytes is at most half of it). */
export const DEFAULT_MEMORY_BUDGET_BYTES = 64 << 20;

/** Options with defaults filled in and values checked. */
export interface ResolvedOptions {
  cas: Array<{ certPem: string; id: bigint; domains: DomainConfig[] }>;
  revokedSerials: bigint[];
  crlPems: string[];
  now: () => Date;
  host: string;
  port: number;
  grpcPort: number | false;
  serviceVersion: string;
  issuedBy: string;
  signingKeyPem?: string;
  signingCertificatePem?: string;
  faults: FaultSettings;
  random: () => number;
  requestLogLimit: number;
  onRequest?: (entry: RecordedRequest) => void;
  maxRequestBytes: number;
  memoryBudgetBytes: number;
  maxConnections: number;
  idleTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

/** Fills defaults and validates once; throws a TypeError/RangeError naming the bad option. */
export function resolveOptions(options: DevServerOptions): ResolvedOptions {
  const domains = (options.domains ?? []).map(domainConfig);
  const cas = (options.caCertificates ?? []).map((ca, index) => {
    const o = typeof ca === "string" ? { certPem: ca } : ca;
    return {
      certPem: o.certPem,
      id: BigInt(o.id ?? index + 1),
      domains: o.domains ? o.domains.map(domainConfig) : domains,
    };
  });
  const revokedSerials = (options.revokedSerials ?? []).map((sn) => {
    if (typeof sn === "bigint") return sn;
    const parsed = parseHexSerial(sn);
    if (parsed === undefined)
      throw new TypeError(`revokedSerials: ${JSON.stringify(sn)} is not a hex serial`);
    return parsed;
  });
  const crlPems =
    options.crlPem === undefined ? [] : Array.isArray(options.crlPem) ? options.crlPem : [options.crlPem];
  const serviceVersion = options.serviceVersion ?? DEFAULT_SERVICE_VERSION;
  if (!/^[^/]+\/[^/]+$/.test(serviceVersion)) {
    throw new TypeError(
      `serviceVersion must look like <app-id>/<version>, got ${JSON.stringify(serviceVersion)}`,
    );
  }
  const resolved: ResolvedOptions = {
    cas,
    revokedSerials,
    crlPems: crlPems.flatMap(splitCrlBlocks),
    now: options.now ?? (() => new Date()),
    host: options.host ?? "127.0.0.1",
    port: checkPort("port", options.port ?? 0),
    grpcPort: options.grpcPort === false ? false : checkPort("grpcPort", options.grpcPort ?? 0),
    serviceVersion,
    issuedBy: options.issuedBy ?? DEFAULT_ISSUED_BY,
    faults: options.faults ?? {},
    random: options.random ?? Math.random,
    requestLogLimit: options.requestLogLimit ?? 10_000,
    maxRequestBytes: positive("maxRequestBytes", options.maxRequestBytes ?? 1 << 20),
    memoryBudgetBytes: 0,
    maxConnections: positive("maxConnections", options.maxConnections ?? 1000),
    idleTimeoutMs: timerMs("idleTimeoutMs", options.idleTimeoutMs ?? 30_000),
    headersTimeoutMs: 0,
    requestTimeoutMs: timerMs("requestTimeoutMs", options.requestTimeoutMs ?? 30_000),
  };
  // Unset, the headers' time follows a shorter request timeout rather than contradicting it.
  resolved.headersTimeoutMs = timerMs(
    "headersTimeoutMs",
    options.headersTimeoutMs ?? Math.min(10_000, resolved.requestTimeoutMs),
  );
  if (resolved.headersTimeoutMs > resolved.requestTimeoutMs) {
    throw new RangeError(
      `headersTimeoutMs (${resolved.headersTimeoutMs}) must not exceed requestTimeoutMs (${resolved.requestTimeoutMs})`,
    );
  }
  resolved.memoryBudgetBytes = positive(
    "memoryBudgetBytes",
    options.memoryBudgetBytes ?? Math.max(DEFAULT_MEMORY_BUDGET_BYTES, 2 * resolved.maxRequestBytes),
  );
  if (resolved.memoryBudgetBytes < 2 * resolved.maxRequestBytes) {
    throw new RangeError(
      `memoryBudgetBytes (${resolved.memoryBudgetBytes}) must be at least twice maxRequestBytes (${resolved.maxRequestBytes}): a compressed request holds its body and room to inflate it`,
    );
  }
  if (options.onRequest) resolved.onRequest = options.onRequest;
  if (options.signingKeyPem !== undefined) resolved.signingKeyPem = options.signingKeyPem;
  if (options.signingCertificatePem !== undefined)
    resolved.signingCertificatePem = options.signingCertificatePem;
  return resolved;
}

function domainConfig(d: DomainOptions): DomainConfig {
  const list = (Array.isArray(d.domain) ? d.domain : [d.domain]).map((x) => x.trim().toLowerCase());
  if (list.length === 0 || list.some((x) => x === "" || x.startsWith(".") || x.endsWith("."))) {
    throw new TypeError(`domains: bad domain ${JSON.stringify(d.domain)}`);
  }
  if (!Number.isFinite(d.lifetimeMs))
    throw new RangeError(`domains: lifetimeMs of ${list[0]} must be finite`);
  return { domains: list, lifetimeSeconds: Math.floor(d.lifetimeMs / 1000) };
}

/** The longest delay a Node timer keeps (a longer one fires after 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A positive delay a Node timer can hold. */
function timerMs(name: string, value: number): number {
  positive(name, value);
  if (value > MAX_TIMER_MS)
    throw new RangeError(`${name} must be at most ${MAX_TIMER_MS} ms (about 24.8 days), got ${value}`);
  return value;
}

function positive(name: string, value: number): number {
  if (!(Number.isSafeInteger(value) && value > 0))
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function checkPort(name: string, port: number): number {
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535))
    throw new RangeError(`${name} must be 0..65535, got ${port}`);
  return port;
}

/** Splits a PEM text holding several CRLs into one string per block. */
function splitCrlBlocks(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----/g);
  if (!blocks) throw new TypeError("crlPem: no X509 CRL block found");
  return blocks;
}
