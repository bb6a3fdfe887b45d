import { fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import {
  type MintMachineTokenRequest,
  MintMachineTokenRequestSchema,
  type MintMachineTokenResponse,
  MintMachineTokenResponseSchema,
  PRPC_BINARY_CONTENT_TYPE,
  PRPC_JSON_CONTENT_TYPE,
  PRPC_JSON_PREFIX,
} from "@luci-machine-tokend/core";
import type { SupportedFormat } from "./negotiate.js";

/** Decodes a request body; throws with the decoder's message when it is not a valid message. */
export function decodeRequest(format: SupportedFormat, body: Uint8Array): MintMachineTokenRequest {
  if (format === "binary") return fromBinary(MintMachineTokenRequestSchema, body);
  // Unknown JSON fields are ignored, as by Go's pRPC server.
  return fromJsonString(
    MintMachineTokenRequestSchema,
    new TextDecoder("utf-8", { fatal: true }).decode(body),
    {
      ignoreUnknownFields: true,
    },
  );
}

/** Encodes a response body and names its Content-Type. JSON gets the `)]}'` XSSI guard line. */
export function encodeResponse(
  format: SupportedFormat,
  message: MintMachineTokenResponse,
): { body: Uint8Array; contentType: string } {
  if (format === "binary") {
    return { body: toBinary(MintMachineTokenResponseSchema, message), contentType: PRPC_BINARY_CONTENT_TYPE };
  }
  const json = toJsonString(MintMachineTokenResponseSchema, message);
  return {
    body: new TextEncoder().encode(`${PRPC_JSON_PREFIX}${json}\n`),
    contentType: PRPC_JSON_CONTENT_TYPE,
  };
}
