import type { NetConnectOpts } from "node:net";
import type { Duplex } from "node:stream";
import type { ConnectionOptions, DetailedPeerCertificate, SecureContext, TLSSocket } from "node:tls";
import { errnoCode } from "../common/fs-errors.js";
import { createRootSelector } from "./root-selection.js";
import {
  loadTrustRoots,
  loadTrustRootsAsync,
  type TrustRootOptions,
  type TrustRoots,
} from "./trust-roots.js";

/** node:tls when first used: the package root imports this module, and node:tls costs ~5 MiB of RSS. */
const tls = () => process.getBuiltinModule("node:tls");

/**
 * Up to this many roots, OpenSSL is handed them all at once; above, root by root as servers need
 * them. OpenSSL 3 decodes each root it is given (~0.3 ms) and its store sorts itself on every
 * addition (time quadratic in the count: 10,000 roots took 12 s); a learning handshake costs ~4 ms.
 */
export const EAGER_ROOTS = 16;

/** OpenSSL's verdicts when no root it holds vouches for a chain: another root may. */
const UNTRUSTED = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
]);

/** Where and how a TLS connection goes: node:tls options (host, port, servername, ALPN, …). */
export type TlsTarget = Omit<ConnectionOptions, "secureContext" | "ca" | "rejectUnauthorized" | "socket">;

/**
 * The roots an HTTPS client trusts (see loadTrustRoots), loaded at the first connection and
 * handed to OpenSSL as servers need them, so a store of any size costs time linear in its
 * size and OpenSSL's work for the few roots a server's chain needs.
 *
 * How: a store of more than {@link EAGER_ROOTS} roots first meets each server with a context
 * holding the roots learned so far (none at first) and without rejecting; if OpenSSL found no
 * root for the chain, the roots that could anchor it (by issuer and subject names, as Go's
 * CertPool matches them) are learned, that connection is closed unused, and a second one is made,
 * verified by OpenSSL as any HTTPS connection (certificate chain and host name) with the roots
 * learned. A connection is only ever used once OpenSSL and the host name check accepted it: the
 * first one when the roots already learned vouch for the server, the second one otherwise.
 */
export class TrustStore {
  readonly #options: TrustRootOptions;
  #roots: TrustRoots | undefined;
  #loading: Promise<TrustRoots> | undefined;
  #select: ((chain: Uint8Array[]) => number[]) | undefined;
  readonly #selected = new Set<number>();
  #context: SecureContext | undefined;
  #everyRoot: SecureContext | undefined;
  /** Servers (`name:port`) whose chain was learned: their next connection is verified at once. */
  readonly #learned = new Set<string>();

  constructor(options: TrustRootOptions = {}) {
    this.#options = options;
  }

  /** The roots, once loaded. */
  get loaded(): TrustRoots | undefined {
    return this.#roots;
  }

  /** The roots, loaded now (synchronously) if no load finished yet. */
  roots(): TrustRoots {
    this.#roots ??= loadTrustRoots(this.#options);
    return this.#roots;
  }

  /**
   * Loads the roots once, giving way to the event loop as it reads (see loadTrustRootsAsync).
   * It ends when `signal` aborts, rejecting; the next call starts again. Callers awaiting the
   * same load share its fate.
   */
  load(signal?: AbortSignal, onProgress?: (roots: number) => void): Promise<TrustRoots> {
    if (this.#roots) return Promise.resolve(this.#roots);
    this.#loading ??= loadTrustRootsAsync({ ...this.#options, signal, onProgress }).then(
      (roots) => {
        this.#roots ??= roots;
        return this.#roots;
      },
      (err: unknown) => {
        this.#loading = undefined;
        throw err;
      },
    );
    return this.#loading;
  }

  /**
   * A context trusting every root, built once: for a client that cannot use {@link connect}.
   * OpenSSL takes ~0.3 ms a root (the Debian store: ~45 ms) and more per root as they grow.
   */
  secureContext(): SecureContext {
    this.#everyRoot ??= tls().createSecureContext({ ca: this.roots().ca });
    return this.#everyRoot;
  }

  /**
   * A TLS connection to `target`, verified with these roots (see the class comment), over the
   * stream `open` makes (a proxy's tunnel; called again for a second connection) or else a TCP
   * connection to `target.host`. Resolves when the connection is accepted, or with a connection
   * still shaking hands (its errors are Node's: `UNABLE_TO_GET_ISSUER_CERT_LOCALLY`, a host name
   * mismatch). `signal` ends the loading and the first handshake.
   */
  async connect(target: TlsTarget, open?: () => Promise<Duplex>, signal?: AbortSignal): Promise<TLSSocket> {
    const server = serverKey(target);
    // The verified connection's stream is opened beside a learning handshake that cannot pass (no
    // roots handed over yet): its TCP (or proxy) round trip overlaps the learning one's handshake.
    let next: Promise<Duplex | undefined> | undefined;
    const openNext = () => {
      // A TCP connection that failed is made again by node:tls, which reports its own error.
      next ??= open ? open() : tcpConnect(target, signal).catch(() => undefined);
      next.catch(() => {}); // awaited below, or dropped with the first handshake's error
    };
    const dropNext = () => {
      next?.then(
        (stream) => stream?.destroy(),
        () => {},
      );
    };
    // Once the load has found more than EAGER_ROOTS roots, the server is met while the rest load:
    // its round trips (and the server's work) overlap the reading of the files.
    let early: Promise<TLSSocket> | undefined;
    const meetEarly = (found: number) => {
      if (found <= EAGER_ROOTS || early || this.#learned.has(server)) return;
      early = (async () =>
        handshake(
          {
            ...target,
            socket: await open?.(),
            session: undefined,
            secureContext: emptyContext(),
            rejectUnauthorized: false,
          },
          signal,
        ))();
      early.catch(() => {}); // awaited below, or dropped with the load's own error
      openNext();
    };
    let roots: TrustRoots;
    try {
      roots = await this.load(signal, meetEarly);
    } catch (err) {
      early?.then(
        (socket) => socket.destroy(),
        () => {},
      );
      dropNext();
      throw err;
    }
    if (roots.ca.length <= EAGER_ROOTS) return this.#verified(target, await open?.(), this.secureContext());
    if (!this.#learned.has(server)) {
      if (this.#selected.size === 0) openNext();
      let probe: TLSSocket;
      try {
        probe = early ? await early : await this.#meet(target, await open?.(), signal);
      } catch (err) {
        dropNext();
        throw err;
      }
      this.#learned.add(server);
      if (probe.authorized) {
        dropNext();
        return probe;
      }
      try {
        if (early) this.#learn(peerChain(probe.getPeerCertificate(true)));
      } catch (err) {
        dropNext();
        throw err;
      } finally {
        probe.destroy();
      }
    } else {
      // Another connection learned this server while ours was meeting it: ours is not needed.
      early?.then(
        (socket) => socket.destroy(),
        () => {},
      );
    }
    // A stream that closed while it waited would leave TLS waiting forever: a new one instead.
    const opened = await next;
    if (signal?.aborted) {
      opened?.destroy();
      signal.throwIfAborted();
    }
    const stream = opened && !opened.destroyed ? opened : await open?.();
    return this.#verified(target, stream, this.#learnedContext());
  }

  /**
   * Loads the roots and learns those `target` needs, once per server (a connection made over
   * `open`'s stream, or TCP, and closed), so that {@link connectNow} is verified with them: for
   * clients whose connections must be made at once (node:http2's `createConnection`).
   */
  async prepare(target: TlsTarget, signal?: AbortSignal, open?: () => Promise<Duplex>): Promise<void> {
    const roots = await this.load(signal);
    if (roots.ca.length <= EAGER_ROOTS || this.#learned.has(serverKey(target))) return;
    (await this.#meet(target, await open?.(), signal)).destroy();
    this.#learned.add(serverKey(target));
  }

  /**
   * A TLS connection to `target` (over `socket`, or TCP) verified with the roots learned so far
   * (all of a small store); the roots are loaded now if no load finished.
   */
  connectNow(target: TlsTarget, socket?: Duplex): TLSSocket {
    const roots = this.roots();
    const context = roots.ca.length <= EAGER_ROOTS ? this.secureContext() : this.#learnedContext();
    return this.#verified(target, socket, context);
  }

  #verified(target: TlsTarget, socket: Duplex | undefined, secureContext: SecureContext): TLSSocket {
    const connection = tls().connect({ ...target, socket, secureContext, rejectUnauthorized: true });
    // A server whose chain changed is met again at its next connection.
    connection.once("error", (err) => {
      if (UNTRUSTED.has(errnoCode(err) ?? "")) this.#learned.delete(serverKey(target));
    });
    return connection;
  }

  /** The handshake that learns: never rejected for its chain, never used unless authorized. */
  async #meet(target: TlsTarget, socket: Duplex | undefined, signal?: AbortSignal): Promise<TLSSocket> {
    const connection = await handshake(
      {
        ...target,
        socket,
        session: undefined,
        secureContext: this.#learnedContext(),
        rejectUnauthorized: false,
      },
      signal,
    );
    if (!connection.authorized) this.#learn(peerChain(connection.getPeerCertificate(true)));
    return connection;
  }

  #learn(chain: Uint8Array[]): void {
    const roots = this.roots();
    this.#select ??= createRootSelector(roots.der).select;
    let added = false;
    for (const i of this.#select(chain)) {
      if (this.#selected.has(i)) continue;
      this.#selected.add(i);
      added = true;
    }
    if (added) this.#context = undefined;
  }

  /** The roots learned so far; `ca: []` (never absent), or Node would trust its bundled roots. */
  #learnedContext(): SecureContext {
    const ca = this.roots().ca;
    this.#context ??= tls().createSecureContext({ ca: [...this.#selected].map((i) => ca[i] as string) });
    return this.#context;
  }
}

/** A context that trusts nothing, for meeting a server before the roots are loaded. */
let nothingTrusted: SecureContext | undefined;
function emptyContext(): SecureContext {
  nothingTrusted ??= tls().createSecureContext({ ca: [] }); // `ca: []`: not Node's bundled roots
  return nothingTrusted;
}

function serverKey(target: TlsTarget): string {
  return `${target.servername || target.host}:${target.port}`;
}

/**
 * A TCP connection to where `target` says, as node:tls would make it (lookup, family, local
 * address), once connected; `signal` ends it before then. An error after that destroys it (see
 * its use).
 */
function tcpConnect(target: TlsTarget, signal?: AbortSignal): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const socket = process.getBuiltinModule("node:net").connect(target as NetConnectOpts);
    const abort = () => socket.destroy(signal?.reason);
    const failed = (err: Error) => {
      signal?.removeEventListener("abort", abort);
      reject(err);
    };
    signal?.addEventListener("abort", abort, { once: true });
    socket.once("error", failed);
    socket.once("close", () => failed(new Error("closed")));
    socket.once("connect", () => {
      signal?.removeEventListener("abort", abort);
      socket.off("error", failed);
      socket.on("error", () => socket.destroy());
      resolve(socket);
    });
  });
}

/** A TLS connection once its handshake is over; `signal` destroys it before then. */
function handshake(options: ConnectionOptions, signal?: AbortSignal): Promise<TLSSocket> {
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const connection = tls().connect(options);
    const abort = () => connection.destroy(signal?.reason);
    const failed = (err: Error) => {
      signal?.removeEventListener("abort", abort);
      reject(err);
    };
    signal?.addEventListener("abort", abort, { once: true });
    connection.once("error", failed);
    connection.once("secureConnect", () => {
      signal?.removeEventListener("abort", abort);
      connection.off("error", failed);
      resolve(connection);
    });
  });
}

/** The DER of each certificate of a peer's chain as Node reports it, leaf first. */
function peerChain(leaf: DetailedPeerCertificate | undefined): Uint8Array[] {
  const chain: Uint8Array[] = [];
  const seen = new Set<DetailedPeerCertificate>();
  for (let cert = leaf; cert?.raw && !seen.has(cert); cert = cert.issuerCertificate) {
    seen.add(cert);
    chain.push(cert.raw);
  }
  return chain;
}
