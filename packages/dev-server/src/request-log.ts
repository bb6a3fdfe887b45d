import type { MachineTokenRequest, MintMachineTokenRequest } from "@luci-machine-tokend/core";
import type { HttpFault } from "./faults.js";
import type { MintOutcome } from "./minter.js";

/** The protocol a call arrived with. */
export type RpcProtocol = "prpc" | "connect" | "grpc" | "grpc-web";

/**
 * How a call ended: a minter outcome, the proxy page fault, the client leaving first, or a
 * Connect-family request the protocol layer refused before the service ran (`httpStatus` sent).
 */
export type RequestOutcome =
  | MintOutcome
  | { kind: "proxy-html"; status: number }
  | { kind: "client-gone" }
  | { kind: "protocol-error"; httpStatus: number };

/** One MintMachineToken call as the server saw it. */
export interface RecordedRequest {
  protocol: RpcProtocol;
  /** pRPC only: the request body format. */
  format?: "binary" | "json";
  /** `1.1` or `2.0`. */
  httpVersion: string;
  /** Server clock (without the clock-offset fault) when the call arrived. */
  receivedAt: Date;
  /** The decoded request, when it decoded. */
  request?: MintMachineTokenRequest;
  /** The decoded inner MachineTokenRequest, when it decoded. */
  tokenRequest?: MachineTokenRequest;
  outcome: RequestOutcome;
  /** Latency added by the latency fault, in milliseconds. */
  latencyMs: number;
  /** The response-shape fault applied to the answer, if any. */
  httpFault?: HttpFault;
}
