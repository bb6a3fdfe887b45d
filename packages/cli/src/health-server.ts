import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, isIP } from "node:net";
import { hostname } from "node:os";
import { type Now, readTokenFile, type StatusReport } from "@luci-machine-tokend/core";
import { limitConnections } from "./connection-slots.js";
import { prometheusText } from "./metrics/prometheus-text.js";

/** What the daemon tells its health server after each run. */
export interface HealthState {
  lastReport?: StatusReport;
  lastFinished?: Date;
  /** Runs by outcome since the daemon started. */
  runsByOutcome: Map<string, number>;
}

/** A running health server. */
export interface HealthServer {
  /** `host:port` it listens on (the port is real when 0 was asked). */
  address: string;
  close(): Promise<void>;
}

/** How much the health server takes from the daemon, whatever its clients do. */
export interface HealthServerLimits {
  /**
   * Connections open at once; a new one closes the one idle longest (see limitConnections).
   * Default 32.
   */
  maxConnections?: number;
  /** A keep-alive connection idle this long is closed; a whole request must arrive within twice it. Default 5 s. */
  idleTimeoutMs?: number;
  /**
   * A request's headers must arrive within this (a probe sends them at once), so trickled bytes
   * do not keep a connection. Default 2 s, at most `idleTimeoutMs`.
   */
  headersTimeoutMs?: number;
}

/**
 * Serves `/healthz` (200 while the primary token is unexpired, else 503; the body says why) and
 * `/metrics` (the last run's gauges in Prometheus text, plus a counter of runs by outcome).
 * A flood of connections cannot take the daemon's file descriptors nor keep probes out (see
 * {@link HealthServerLimits}), and only requests whose Host is an IP address, `localhost`, the listen host or this machine's
 * name are answered (421 otherwise): a web page cannot read /metrics by rebinding its own name
 * to this address.
 */
export async function startHealthServer(
  listen: string,
  tokenFile: string,
  state: HealthState,
  now: Now,
  limits: HealthServerLimits = {},
): Promise<HealthServer> {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  const host = m?.[1] ?? m?.[2] ?? "127.0.0.1";
  const idleMs = limits.idleTimeoutMs ?? 5_000;
  const headersMs = Math.min(limits.headersTimeoutMs ?? 2_000, idleMs);
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (!isOwnHost(req.headers.host, host)) {
      res
        .writeHead(421, { "Content-Type": "text/plain; charset=utf-8" })
        .end("misdirected request: unknown Host\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      const { token } = await readTokenFile(tokenFile);
      const left = token ? Number(token.expiry) - now().getTime() / 1000 : 0;
      const ok = token !== undefined && left > 0;
      const text = ok
        ? `ok: the token is valid for ${Math.floor(left)}s\n`
        : `unhealthy: ${token ? "the token has expired" : "no valid token file"}\n`;
      res.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain; charset=utf-8" }).end(text);
      return;
    }
    if (path === "/metrics") {
      const body = [
        state.lastReport ? prometheusText(state.lastReport, state.lastFinished ?? now()) : "",
        "# HELP luci_machine_tokend_runs_total Runs since the daemon started, by outcome.",
        "# TYPE luci_machine_tokend_runs_total counter",
        ...[...state.runsByOutcome].map(
          ([outcome, n]) => `luci_machine_tokend_runs_total{outcome="${outcome}"} ${n}`,
        ),
        "",
      ].join("\n");
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }).end(body);
      return;
    }
    res
      .writeHead(404, { "Content-Type": "text/plain; charset=utf-8" })
      .end("not found: try /healthz or /metrics\n");
  };
  const server: Server = createServer(
    {
      headersTimeout: headersMs,
      requestTimeout: 2 * idleMs,
      keepAliveTimeout: idleMs,
      connectionsCheckingInterval: Math.min(1_000, headersMs),
    },
    answer,
  );
  limitConnections(server, limits.maxConnections ?? 32);
  server.timeout = idleMs; // an idle socket is destroyed (no 'timeout' listener)
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(m?.[3] ?? 0), host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    address: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * True for a Host header naming this server: an IP address or `localhost` (DNS rebinding needs a
 * name the attacker controls), the listen host, or this machine's name (full or short). A
 * request without Host (HTTP/1.0) is not from a browser.
 */
function isOwnHost(header: string | undefined, listenHost: string): boolean {
  if (header === undefined) return true;
  const name = header
    .replace(/:\d*$/, "")
    .replace(/^\[(.*)\]$/, "$1")
    .toLowerCase();
  const machine = hostname().toLowerCase();
  const own = [listenHost.toLowerCase(), "localhost", machine, machine.split(".")[0]];
  return isIP(name) !== 0 || own.includes(name);
}
