import type { Server } from "node:http";
import type { Http2Server, Http2Session } from "node:http2";
import type { Socket } from "node:net";

/** Limits of the connection guards. */
export interface ConnectionLimits {
  /**
   * Open connections kept; when full, the longest-idle one makes room if it has been idle for
   * {@link EVICTION_GRACE_MS}, else the new one is refused.
   */
  maxConnections: number;
  /** A connection with no call in flight is closed after this many milliseconds. */
  idleTimeoutMs: number;
}

/** The connections of one listener, for shutdown and tests. */
export interface GuardedConnections {
  /** Connections (HTTP/1.1 sockets, HTTP/2 sessions) open now. */
  readonly size: number;
  /** Destroys every connection now. */
  destroyAll(): void;
}

/** A connection idle for less than this is never evicted: its first request may be on its way. */
export const EVICTION_GRACE_MS = 500;

interface Tracked {
  /** Calls in flight. */
  busy: number;
  /** performance.now() when it last became idle (or was accepted). */
  idleSince?: number;
  timer?: NodeJS.Timeout;
  /** Closes politely (idle timeout). */
  close(): void;
  /** Closes now (eviction, shutdown). */
  destroy(): void;
}

/**
 * Bounds the sockets of an HTTP/1.1 server so idle clients cannot use up file descriptors: a socket
 * without a request in flight (one that never sends a request included) is closed after
 * `idleTimeoutMs`, and at `maxConnections` a new socket closes the longest-idle one, or is refused
 * when every socket has a request in flight or has just become idle.
 */
export function guardHttp1Connections(server: Server, limits: ConnectionLimits): GuardedConnections {
  const tracker = createTracker(limits);
  server.on("connection", (socket: Socket) => {
    const destroy = () => socket.destroy();
    if (!tracker.admit(socket, { busy: 0, close: destroy, destroy })) return destroy();
    socket.once("close", () => tracker.forget(socket));
  });
  server.on("request", (req, res) => {
    const socket = req.socket;
    tracker.callStarted(socket);
    res.once("close", () => tracker.callEnded(socket));
  });
  return tracker.connections;
}

/**
 * The same for the sessions of a cleartext HTTP/2 server: a session without an open stream is sent
 * GOAWAY after `idleTimeoutMs` (and destroyed a second later if still open); at `maxConnections`
 * a new session destroys the longest-idle one, or is refused.
 */
export function guardHttp2Sessions(server: Http2Server, limits: ConnectionLimits): GuardedConnections {
  const tracker = createTracker(limits);
  server.on("session", (session: Http2Session) => {
    const destroy = () => session.destroy();
    const close = () => {
      session.close();
      setTimeout(destroy, 1_000).unref();
    };
    if (!tracker.admit(session, { busy: 0, close, destroy })) return destroy();
    session.once("close", () => tracker.forget(session));
    session.on("stream", (stream) => {
      tracker.callStarted(session);
      stream.once("close", () => tracker.callEnded(session));
    });
  });
  return tracker.connections;
}

/** Open connections by key, least recently active first, with their idle timers. */
function createTracker(limits: ConnectionLimits) {
  const open = new Map<object, Tracked>();
  const touch = (key: object, t: Tracked) => {
    open.delete(key);
    open.set(key, t);
  };
  const armIdle = (t: Tracked) => {
    t.idleSince = performance.now();
    clearTimeout(t.timer);
    t.timer = setTimeout(() => {
      if (t.busy === 0) t.close();
    }, limits.idleTimeoutMs);
    t.timer.unref();
  };
  const forget = (key: object) => {
    clearTimeout(open.get(key)?.timer);
    open.delete(key);
  };
  // Least recently active first, so the first idle entry is the longest idle. One idle for less
  // than the grace may be a client whose request is on its way: it is not evicted.
  const longestIdle = () => {
    const graceMs = Math.min(EVICTION_GRACE_MS, limits.idleTimeoutMs);
    for (const entry of open) {
      if (entry[1].busy > 0) continue;
      return performance.now() - (entry[1].idleSince ?? 0) >= graceMs ? entry : undefined;
    }
    return undefined;
  };
  return {
    /** Tracks a new connection, making room if needed; false when it must be refused. */
    admit(key: object, t: Tracked): boolean {
      if (open.size >= limits.maxConnections) {
        const idle = longestIdle();
        if (!idle) return false;
        forget(idle[0]);
        idle[1].destroy();
      }
      touch(key, t);
      armIdle(t);
      return true;
    },
    forget,
    callStarted(key: object) {
      const t = open.get(key);
      if (!t) return;
      t.busy++;
      clearTimeout(t.timer);
      touch(key, t);
    },
    callEnded(key: object) {
      const t = open.get(key);
      if (!t) return;
      t.busy--;
      if (t.busy > 0) return;
      touch(key, t);
      armIdle(t);
    },
    connections: {
      get size() {
        return open.size;
      },
      destroyAll() {
        for (const [key, t] of [...open.entries()]) {
          forget(key);
          t.destroy();
        }
      },
    } satisfies GuardedConnections,
  };
}
