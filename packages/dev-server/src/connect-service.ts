import {
  Code,
  ConnectError,
  createConnectRouter,
  createContextKey,
  createContextValues,
} from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
} from "@connectrpc/connect-node";
import { TokenMinter } from "@luci-machine-tokend/core/gen";
import type { FaultPlan } from "./faults.js";
import type { NodeRequest, NodeResponse } from "./http/node-types.js";
import { readBody } from "./http/read-body.js";
import type { BudgetLease } from "./memory-budget.js";
import type { Minter } from "./minter.js";
import { SKIP_UNKNOWN } from "./prpc/codec.js";
import { BUSY_MESSAGE } from "./prpc/read-request.js";
import type { RecordedRequest, RpcProtocol } from "./request-log.js";
import { summarizeRequest } from "./request-summary.js";
import { sleep } from "./sleep.js";

/** Per-call data handed from the HTTP layer to the service implementation and back. */
interface CallSlot {
  plan: FaultPlan;
  record?: Pick<RecordedRequest, "summary" | "outcome">;
}

const callSlotKey = createContextKey<CallSlot | undefined>(undefined, { description: "dev-server call" });

/** The Connect-family protocol of a request, from its Content-Type. */
export function connectProtocolOf(contentType: string | undefined): Exclude<RpcProtocol, "prpc"> {
  const ct = (contentType ?? "").toLowerCase();
  if (ct.startsWith("application/grpc-web")) return "grpc-web";
  if (ct.startsWith("application/grpc")) return "grpc";
  return "connect";
}

/** The Connect, gRPC and gRPC-web endpoints of TokenMinter over one minter. */
export interface ConnectService {
  /** Request path of MintMachineToken (`/tokenserver.minter.TokenMinter/MintMachineToken`). */
  mintPath: string;
  /**
   * Runs one call, its body held by `lease`; the response is returned for the HTTP layer to write
   * (maybe with a fault).
   */
  call(
    req: NodeRequest,
    res: NodeResponse,
    plan: FaultPlan,
    lease: BudgetLease,
  ): Promise<{ response: Awaited<ReturnType<UniversalHandler>>; record?: CallSlot["record"] }>;
}

/**
 * Serves TokenMinter with connect-es's router (Connect, gRPC, gRPC-web). Handler errors keep their
 * text: only pRPC masks messages. A request message may take `maxRequestBytes` as sent and again
 * once decompressed (connect-node's gzip and brotli stop inflating there): past it the call fails
 * with RESOURCE_EXHAUSTED. The body is read by us, within the call's share of the memory budget
 * (and a compressed one takes `maxRequestBytes` more for inflating): no room → UNAVAILABLE. Unknown
 * JSON fields are ignored (connect-es's default, as connect-go).
 */
export function createConnectService(minter: Minter, maxRequestBytes: number): ConnectService {
  const router = createConnectRouter({
    acceptCompression: [compressionGzip, compressionBrotli],
    readMaxBytes: maxRequestBytes,
    binaryOptions: SKIP_UNKNOWN,
  });
  router.service(TokenMinter, {
    async mintMachineToken(request, ctx) {
      const slot = ctx.values.get(callSlotKey);
      if (!slot) throw new ConnectError("call without a fault plan", Code.Internal);
      if (!(await sleep(slot.plan.latencyMs, ctx.signal))) {
        slot.record = { summary: summarizeRequest(request), outcome: { kind: "client-gone" } };
        throw ConnectError.from(ctx.signal.reason, Code.Canceled);
      }
      const result = await minter.mint(request, slot.plan);
      slot.record = { summary: summarizeRequest(request, result.tokenRequest), outcome: result.outcome };
      if (result.outcome.kind === "grpc-error")
        throw new ConnectError(result.outcome.message, result.outcome.code);
      if (!result.response) throw new ConnectError("minter returned no response", Code.Internal);
      return result.response;
    },
  });
  const handler = router.handlers.find((h) => h.method.name === TokenMinter.method.mintMachineToken.name);
  if (!handler) throw new Error("TokenMinter.MintMachineToken has no handler");
  return {
    mintPath: handler.requestPath,
    async call(req, res, plan, lease) {
      // The body first, and connect-es's machinery only then: a stalled upload holds the least
      // (the lease and the chunks), and connect-es's own reading of the node request never starts.
      const body = await readBudgetedBody(req, lease, maxRequestBytes);
      const slot: CallSlot = { plan };
      const uReq = universalRequestFromNodeRequest(
        req,
        res,
        undefined,
        createContextValues().set(callSlotKey, slot),
      );
      uReq.body = bodyOf(body);
      const response = await handler(uReq);
      return slot.record ? { response, record: slot.record } : { response };
    },
  };
}

/** Bytes a gRPC or gRPC-web body adds to its one message: the envelope's flags and length. */
const ENVELOPE_BYTES = 5;

/**
 * Reads the whole request body within the lease (a compressed one also takes `maxRequestBytes`
 * to inflate). Past the size limit it fails as connect-es's own limit does (RESOURCE_EXHAUSTED);
 * without room in the budget, UNAVAILABLE, which clients retry. The failure is handed to connect-es
 * as the body's, so its checks of the headers still come first and it frames the answer.
 */
async function readBudgetedBody(
  req: NodeRequest,
  lease: BudgetLease,
  maxRequestBytes: number,
): Promise<Uint8Array | Error> {
  const busy = () => new ConnectError(BUSY_MESSAGE, Code.Unavailable);
  if (isCompressed(req) && !lease.take(maxRequestBytes)) return busy();
  try {
    const read = await readBody(req, { limit: maxRequestBytes + ENVELOPE_BYTES, lease });
    if ("body" in read) return read.body;
    if (read.refused === "busy") return busy();
    return new ConnectError(
      `message size is larger than configured readMaxBytes ${maxRequestBytes}`,
      Code.ResourceExhausted,
    );
  } catch (err) {
    return ConnectError.from(err, Code.Canceled); // the client went away
  }
}

async function* bodyOf(body: Uint8Array | Error) {
  if (body instanceof Error) throw body;
  yield body;
}

/** A Connect unary body or gRPC messages that may be compressed, so inflating takes memory too. */
function isCompressed(req: NodeRequest): boolean {
  const encoding = (name: string) => {
    const value = req.headers[name];
    return typeof value === "string" && value !== "" && value !== "identity";
  };
  return encoding("content-encoding") || encoding("grpc-encoding");
}
