import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Now, readTokenFile, type StatusReport } from "@luci-machine-tokend/core";
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

/**
 * Serves `/healthz` (200 while the primary token is unexpired, else 503; the body says why) and
 * `/metrics` (the last run's gauges in Prometheus text, plus a counter of runs by outcome).
 */
export async function startHealthServer(
  listen: string,
  tokenFile: string,
  state: HealthState,
  now: Now,
): Promise<HealthServer> {
  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
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
  });
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  const host = m?.[1] ?? m?.[2] ?? "127.0.0.1";
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
