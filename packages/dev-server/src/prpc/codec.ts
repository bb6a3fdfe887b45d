import { fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import { fromText, toText } from "@bufbuild/protobuf/txtpb";
import {
  type MintMachineTokenRequest,
  MintMachineTokenRequestSchema,
  type MintMachineTokenResponse,
  MintMachineTokenResponseSchema,
} from "@luci-machine-tokend/core/gen";
import {
  PRPC_BINARY_CONTENT_TYPE,
  PRPC_JSON_CONTENT_TYPE,
  PRPC_JSON_PREFIX,
  PRPC_TEXT_CONTENT_TYPE,
  type PrpcFormat,
} from "@luci-machine-tokend/core/protocol-prpc";
import { discardUnknownTextFields } from "./text-discard-unknown.js";

/** protobuf-es binary read options that skip unknown fields instead of keeping them. */
export const SKIP_UNKNOWN = { readUnknownFields: false } as const;

/**
 * Decodes a request body as LUCI's pRPC server does (grpc/prpc codec.go): binary with
 * proto.Unmarshal, JSON and text with DiscardUnknown, so unknown fields are ignored. Throws with
 * the decoder's message when it is not a valid message. Unknown binary fields are skipped, not
 * kept (nothing reads them): a body of nothing but tiny unknown fields was kept as one object per
 * field, ~9x the time to decode and tens of MB per MB sent.
 */
export function decodeRequest(format: PrpcFormat, body: Uint8Array): MintMachineTokenRequest {
  if (format === "binary") return fromBinary(MintMachineTokenRequestSchema, body, SKIP_UNKNOWN);
  const text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  if (format === "json") {
    return fromJsonString(MintMachineTokenRequestSchema, text, { ignoreUnknownFields: true });
  }
  const known = discardUnknownTextFields(MintMachineTokenRequestSchema, text);
  if ("error" in known) throw new Error(known.error);
  return fromText(MintMachineTokenRequestSchema, known.text);
}

/**
 * Encodes a response body and names its Content-Type. JSON gets the `)]}'` XSSI guard line and a
 * trailing newline; text is protobuf-es's text format (Go's prototext spacing differs, which text
 * parsers ignore).
 */
export function encodeResponse(
  format: PrpcFormat,
  message: MintMachineTokenResponse,
): { body: Uint8Array; contentType: string } {
  switch (format) {
    case "binary":
      return {
        body: toBinary(MintMachineTokenResponseSchema, message),
        contentType: PRPC_BINARY_CONTENT_TYPE,
      };
    case "json":
      return {
        body: new TextEncoder().encode(
          `${PRPC_JSON_PREFIX}${toJsonString(MintMachineTokenResponseSchema, message)}\n`,
        ),
        contentType: PRPC_JSON_CONTENT_TYPE,
      };
    case "text":
      return {
        body: new TextEncoder().encode(toText(MintMachineTokenResponseSchema, message)),
        contentType: PRPC_TEXT_CONTENT_TYPE,
      };
  }
}
