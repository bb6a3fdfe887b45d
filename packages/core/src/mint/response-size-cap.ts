import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { PRPC_MAX_RESPONSE_BYTES } from "../protocol-prpc/request-header.js";
import { responseTooBig } from "../protocol-prpc/response-too-big.js";
import type { Protocol } from "./protocols.js";

/** The largest reply every protocol accepts: pRPC's 32 MiB − 32 KiB (Go's client). */
export const MAX_RESPONSE_BYTES = PRPC_MAX_RESPONSE_BYTES;

/** connect-node's wording when a reply passes `readMaxBytes` (whole, enveloped or inflated). */
const READ_MAX_BYTES = /^message (?:size (?:(\d+) )?)?is larger than configured readMaxBytes (\d+)/;

/**
 * Rewords connect-node's `readMaxBytes` refusal (RESOURCE_EXHAUSTED) as pRPC's "response too
 * big", naming the protocol, so every protocol ends such a call the same way: at once, unusable.
 * Add it last, next to the transport; the transport itself must be given `readMaxBytes`.
 */
export function responseSizeCap(protocol: Protocol): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      const match =
        err instanceof ConnectError &&
        err.code === Code.ResourceExhausted &&
        READ_MAX_BYTES.exec(err.rawMessage);
      if (!match) throw err;
      throw responseTooBig(protocol, Number(match[2]), match[1] === undefined ? undefined : Number(match[1]));
    }
  };
}
