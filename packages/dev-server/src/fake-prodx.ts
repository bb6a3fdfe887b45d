import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { type Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { escapeForLog } from "@luci-machine-tokend/core/internal";
import {
  type MetricsPayload,
  MonitoringInsertResponseSchema,
  MonitoringService,
} from "@luci-machine-tokend/core/ts-mon";

/** One Insert call the fake received. */
export interface ProdxInsert {
  /** The decoded payload (`MonitoringInsertRequest.payload`). */
  payload: MetricsPayload | undefined;
  /** The `authorization` header, e.g. `Bearer t`. */
  authorization: string | undefined;
  /** The `grpc-timeout` header, e.g. `9999871u`. */
  grpcTimeout: string | undefined;
  /** The `user-agent` header. */
  userAgent: string | undefined;
}

/** How the fake answers an Insert: OK (the default), a non-OK response_status, or a gRPC error. */
export type ProdxAnswer = { responseStatus?: { code: number; message: string } } | { error: ConnectError };

/** Options of {@link startFakeProdx}. */
export interface FakeProdxOptions {
  /** The TLS identity it serves (clients trust its CA, e.g. through SSL_CERT_FILE). */
  tls: { certPem: string; keyPem: string };
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (any free port). */
  port?: number;
  /** Largest request accepted, in bytes; default 1 MiB. */
  maxRequestBytes?: number;
  /** Called with each Insert once recorded (e.g. to print it). */
  onInsert?: (insert: ProdxInsert) => void;
}

/** A running fake ProdX monitoring service. */
export interface FakeProdx {
  /** `host:port` it listens on. */
  address: string;
  /** A ts-mon endpoint for it, `https://host:port/v1:insert` (the path is ignored, as by ts-mon). */
  endpoint: string;
  /** Insert calls in arrival order. */
  inserts: ProdxInsert[];
  /** Sets how later calls are answered. */
  answer(answer: ProdxAnswer | ((insert: ProdxInsert) => ProdxAnswer)): void;
  /** Stops listening and drops open sessions. */
  close(): Promise<void>;
}

/**
 * Starts a stand-in for Google's ProdX monitoring API on loopback: gRPC over TLS (HTTP/2) serving
 * `google.internal.prodx.mon.v1.MonitoringService/Insert`, recording each decoded payload and the
 * `authorization` and `grpc-timeout` headers it came with. For tests and the demo: it checks no
 * token, and it takes any payload.
 */
export async function startFakeProdx(options: FakeProdxOptions): Promise<FakeProdx> {
  const inserts: ProdxInsert[] = [];
  let answer: ProdxAnswer | ((insert: ProdxInsert) => ProdxAnswer) = {};
  const handler = connectNodeAdapter({
    grpc: true,
    connect: false,
    grpcWeb: false,
    readMaxBytes: options.maxRequestBytes ?? 1 << 20,
    routes(router) {
      router.service(MonitoringService, {
        insert(request, context) {
          const insert: ProdxInsert = {
            payload: request.payload,
            authorization: context.requestHeader.get("authorization") ?? undefined,
            grpcTimeout: context.requestHeader.get("grpc-timeout") ?? undefined,
            userAgent: context.requestHeader.get("user-agent") ?? undefined,
          };
          inserts.push(insert);
          options.onInsert?.(insert);
          const given = typeof answer === "function" ? answer(insert) : answer;
          if ("error" in given) throw given.error;
          return create(MonitoringInsertResponseSchema, given);
        },
      });
    },
  });
  const server: Http2SecureServer = createSecureServer(
    { key: options.tls.keyPem, cert: options.tls.certPem, allowHTTP1: false },
    handler,
  );
  const sessions = new Set<ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  // A client that does not trust the test CA just goes away; nothing to report.
  server.on("tlsClientError", () => {});
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    address,
    endpoint: `https://${address}/v1:insert`,
    inserts,
    answer(next) {
      answer = next;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.destroy();
      await closed;
    },
  };
}

/** A gRPC error answer, e.g. `prodxError(Code.PermissionDenied, "no")`. */
export function prodxError(code: Code, message: string): ProdxAnswer {
  return { error: new ConnectError(message, code) };
}

/**
 * One line about an Insert, for a log: the string values of tokend's gauges and the target's
 * host, escaped (they come from the client); whether a bearer token came, never the token.
 */
export function prodxInsertLine(insert: ProdxInsert): string {
  const collection = insert.payload?.metricsCollection[0];
  const host = collection?.rootLabels.find((l) => l.key === "host_name" || l.key === "hostname")?.value;
  const values = (collection?.metricsDataSet ?? []).flatMap((d) => {
    const v = d.data[0]?.value;
    return v?.case === "stringValue" ? [`${d.metricName.split("/").pop()}=${JSON.stringify(v.value)}`] : [];
  });
  const auth = insert.authorization?.startsWith("Bearer ") ? "a bearer token" : "no bearer token";
  return escapeForLog(
    `ProdX Insert with ${auth}: ${collection?.metricsDataSet.length ?? 0} metrics from ${JSON.stringify(host?.value ?? "?")}${values.length ? `: ${values.join(" ")}` : ""}`,
  );
}
