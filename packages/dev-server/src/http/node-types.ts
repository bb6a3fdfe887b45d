import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

/** A request from either node server (HTTP/1.1 or HTTP/2). */
export type NodeRequest = IncomingMessage | Http2ServerRequest;

/** A response of either node server (HTTP/1.1 or HTTP/2). */
export type NodeResponse = ServerResponse | Http2ServerResponse;
