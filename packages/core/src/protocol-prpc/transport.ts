import type { DescMessage, DescMethodStreaming, DescMethodUnary, MessageInitShape } from "@bufbuild/protobuf";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextValues,
  type Interceptor,
  type StreamResponse,
  type Transport,
  type UnaryResponse,
} from "@connectrpc/connect";
import { createMethodUrl, runUnaryCall, type UniversalClientFn } from "@connectrpc/connect/protocol";
import { errorMessage } from "../common/fs-errors.js";
import { formatGoDuration } from "../common/go-duration.js";
import { type Logger, silentLogger } from "../common/logger.js";
import { oneLine } from "../common/one-line.js";
import { isUnusableResponse, unusableResponse } from "../mint/unusable-response.js";
import { HttpHeaders } from "../net/http-headers.js";
import { createHttp1Client } from "../net/http1-client.js";
import { readResponseBody } from "./read-body.js";
import { PRPC_MAX_RESPONSE_BYTES, prpcRequestHeader } from "./request-header.js";
import { validatePrpcResponse } from "./validate-response.js";

/** Options of {@link createPrpcTransport}. */
export interface PrpcTransportOptions {
  /** `https://host[:port]` or `http://127.0.0.1:port`; requests go to `<baseUrl>/prpc/<service>/<method>`. */
  baseUrl: string;
  /** Sends HTTP requests. Default: an HTTP/1.1 client over node:http(s) (see createHttp1Client). */
  httpClient?: UniversalClientFn;
  /** Connect interceptors, run around every call. */
  interceptors?: Interceptor[];
  /** Largest response accepted. Default 32 MiB − 32 KiB, as Go. */
  maxResponseBytes?: number;
  /** Receives the per-call debug line Go's client logs. */
  logger?: Logger;
}

/**
 * A Connect Transport that speaks LUCI's pRPC (binary encoding), so the buf-generated Connect
 * client talks to the LUCI Token Server unchanged. Unary calls only: pRPC has no streaming.
 */
export function createPrpcTransport(options: PrpcTransportOptions): Transport {
  const httpClient = options.httpClient ?? createHttp1Client();
  const limit = options.maxResponseBytes ?? PRPC_MAX_RESPONSE_BYTES;
  const logger = options.logger ?? silentLogger;
  const base = `${options.baseUrl.replace(/\/+$/, "")}/prpc`;
  const host = new URL(options.baseUrl).host;
  return {
    async unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeadersInit | undefined,
      input: MessageInitShape<I>,
      contextValues?: ContextValues,
    ): Promise<UnaryResponse<I, O>> {
      const deadline =
        timeoutMs !== undefined && timeoutMs > 0 ? ` [deadline ${formatGoDuration(timeoutMs)}]` : "";
      logger.log("debug", `RPC ${host}/${method.parent.typeName}.${method.name}${deadline}`);
      return runUnaryCall<I, O>({
        interceptors: options.interceptors,
        signal,
        timeoutMs,
        req: {
          stream: false,
          service: method.parent,
          method,
          requestMethod: "POST",
          url: createMethodUrl(base, method),
          header: prpcRequestHeader(header, timeoutMs),
          contextValues: contextValues ?? createContextValues(),
          message: input,
        },
        next: async (req) => {
          const body = toBinary(method.input, req.message);
          req.header.set("Content-Length", String(body.length));
          let res: Awaited<ReturnType<UniversalClientFn>>;
          try {
            res = await httpClient({
              url: req.url,
              method: "POST",
              header: req.header,
              signal: req.signal,
              body: (async function* () {
                yield body;
              })(),
            });
          } catch (err) {
            throw transportError(err, req.signal);
          }
          let bytes: Uint8Array;
          try {
            bytes = await readResponseBody(res.body, res.header, limit);
          } catch (err) {
            throw transportError(err, req.signal);
          }
          const failure = validatePrpcResponse(res.status, res.header, bytes);
          if (failure) throw failure;
          let message: ReturnType<typeof fromBinary<O>>;
          try {
            message = fromBinary(method.output, bytes);
          } catch (err) {
            // Go unmarshals after its retry loop: a body that does not decode ends the call.
            throw unusableResponse(
              `prpc: failed to unmarshal the response: ${oneLine(errorMessage(err))}`,
              Code.Internal,
            );
          }
          return {
            stream: false,
            service: method.parent,
            method,
            header: res.header,
            message,
            trailer: new HttpHeaders(),
          };
        },
      });
    },
    async stream<I extends DescMessage, O extends DescMessage>(
      method: DescMethodStreaming<I, O>,
    ): Promise<StreamResponse<I, O>> {
      throw new ConnectError(`pRPC has no streaming RPCs (${method.name})`, Code.Unimplemented);
    },
  };
}

/**
 * A failure to exchange bytes with the server. Go's client reports these as INTERNAL (retried);
 * an abort keeps Connect's own error so the deadline or the cancellation is reported as such.
 */
function transportError(err: unknown, signal: AbortSignal): ConnectError {
  if (signal.aborted || isUnusableResponse(err)) {
    return ConnectError.from(err);
  }
  const reason = err instanceof ConnectError ? err.rawMessage : errorMessage(err);
  return new ConnectError(
    `failed to send request: ${oneLine(reason)}`,
    Code.Internal,
    undefined,
    undefined,
    err,
  );
}
