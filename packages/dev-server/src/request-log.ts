import type { PrpcFormat } from "@luci-machine-tokend/core/protocol-prpc";
import type { HttpFault } from "./faults.js";
import type { MintOutcome } from "./minter.js";
import type { RequestSummary } from "./request-summary.js";

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
  format?: PrpcFormat;
  /** `1.1` or `2.0`. */
  httpVersion: string;
  /** Server clock (without the clock-offset fault) when the call arrived. */
  receivedAt: Date;
  /** A bounded summary of the request, when it decoded (never the message itself). */
  summary?: RequestSummary;
  /** How the call ended; texts are cut to a bounded length. */
  outcome: RequestOutcome;
  /** Latency added by the latency fault, in milliseconds. */
  latencyMs: number;
  /** The response-shape fault applied to the answer, if any. */
  httpFault?: HttpFault;
}

/** Longest text (error messages, trust reasons) a log entry keeps, in UTF-16 units. */
export const MAX_LOGGED_TEXT = 512;

/** The outcome with every text cut to {@link MAX_LOGGED_TEXT} (they can quote client input). */
export function boundOutcome(outcome: RequestOutcome): RequestOutcome {
  switch (outcome.kind) {
    case "error-code": {
      const bounded = { ...outcome, errorMessage: boundText(outcome.errorMessage) };
      if (outcome.detail !== undefined) bounded.detail = boundText(outcome.detail);
      return bounded;
    }
    case "grpc-error":
      return { ...outcome, message: boundText(outcome.message) };
    default:
      return outcome;
  }
}

/** Cuts a text to {@link MAX_LOGGED_TEXT}, saying how much was dropped. */
function boundText(text: string): string {
  if (text.length <= MAX_LOGGED_TEXT) return text;
  return `${text.slice(0, MAX_LOGGED_TEXT)}... (${text.length - MAX_LOGGED_TEXT} more)`;
}
