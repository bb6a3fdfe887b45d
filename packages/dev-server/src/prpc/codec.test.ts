import { create, toBinary } from "@bufbuild/protobuf";
import { fromText } from "@bufbuild/protobuf/txtpb";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  ErrorCode,
  MintMachineTokenRequestSchema,
  MintMachineTokenResponseSchema,
} from "@luci-machine-tokend/core/gen";
import { PRPC_TEXT_CONTENT_TYPE } from "@luci-machine-tokend/core/protocol-prpc";
import { describe, expect, it } from "vitest";
import { decodeRequest, encodeResponse } from "./codec.js";

const text = (s: string) => new TextEncoder().encode(s);
const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));

describe("pRPC text format (protobuf text, as Go's prototext)", () => {
  it("decodes strings with escapes, adjacent literals, comments and either quote", () => {
    const request = decodeRequest(
      "text",
      text('# a comment\nserialized_token_request: "\\x00\\001\\n" \'"\'  # tail\nsignature: "\\377"'),
    );
    expect(request.serializedTokenRequest).toEqual(bytes('\x00\x01\n"'));
    expect(request.signature).toEqual(bytes("\xff"));
  });

  it("ignores unknown fields of any shape, as LUCI's DiscardUnknown decoder", () => {
    const request = decodeRequest(
      "text",
      text(
        [
          'future_field: "x"',
          "count: -12,",
          "nested { a: 1 b < c: [1, 2] > }",
          'list: [{ x: "]" }, { y: 2 }];',
          '[some.extension]: "e"',
          "7: 99",
          'signature: "sig"',
          "empty_msg: {}",
        ].join("\n"),
      ),
    );
    expect([request.signature, request.serializedTokenRequest]).toEqual([bytes("sig"), new Uint8Array()]);
  });

  it("refuses a singular field given twice, a field by its number, and bad syntax", () => {
    expect(() => decodeRequest("text", text('signature: "a" signature: "b"'))).toThrow(
      'non-repeated field "signature" is repeated',
    );
    expect(() => decodeRequest("text", text('2: "a"'))).toThrow();
    expect(() => decodeRequest("text", text("signature: 5"))).toThrow();
    expect(() => decodeRequest("text", text('signature: "unterminated'))).toThrow();
    expect(() => decodeRequest("text", new Uint8Array([0x73, 0xff]))).toThrow();
  });

  it("encodes responses that a text parser reads back, under LUCI's text media type", () => {
    const message = create(MintMachineTokenResponseSchema, {
      serviceVersion: "app/v1",
      tokenResponse: {
        serviceVersion: "app/v1",
        tokenType: {
          case: "luciMachineToken",
          value: { machineToken: "abc", expiry: timestampFromMs(1_700_000_000_000) },
        },
      },
    });
    const encoded = encodeResponse("text", message);
    expect(encoded.contentType).toBe(PRPC_TEXT_CONTENT_TYPE);
    const back = fromText(MintMachineTokenResponseSchema, new TextDecoder().decode(encoded.body));
    expect(toBinary(MintMachineTokenResponseSchema, back)).toEqual(
      toBinary(MintMachineTokenResponseSchema, message),
    );
    const error = encodeResponse(
      "text",
      create(MintMachineTokenResponseSchema, { errorCode: ErrorCode.BAD_TIMESTAMP, errorMessage: "x" }),
    );
    expect(new TextDecoder().decode(error.body)).toContain("error_code: BAD_TIMESTAMP");
  });
});

describe("pRPC JSON", () => {
  it("ignores unknown fields, as LUCI's protojson DiscardUnknown decoder", () => {
    const request = decodeRequest("json", text('{"signature":"AQI=","futureField":{"a":[1]},"x":null}'));
    expect(request.signature).toEqual(new Uint8Array([1, 2]));
  });

  it("still refuses what is not JSON of this message", () => {
    expect(() => decodeRequest("json", text('{"signature": 5}'))).toThrow();
    expect(() => decodeRequest("json", text("{"))).toThrow();
  });
});

describe("binary", () => {
  it("round-trips", () => {
    const m = create(MintMachineTokenRequestSchema, { signature: new Uint8Array([7]) });
    expect(decodeRequest("binary", toBinary(MintMachineTokenRequestSchema, m)).signature).toEqual(
      new Uint8Array([7]),
    );
  });
});

describe("pRPC binary format", () => {
  it("skips unknown fields instead of keeping one object per field", () => {
    // 450,000 unknown varint fields (field 15 = 1) after a signature.
    const known = toBinary(
      MintMachineTokenRequestSchema,
      create(MintMachineTokenRequestSchema, { signature: bytes("s") }),
    );
    const unknown = Buffer.alloc(900_000, Buffer.from([0x78, 1]));
    const request = decodeRequest("binary", new Uint8Array(Buffer.concat([known, unknown])));
    expect(request.signature).toEqual(bytes("s"));
    expect(request.$unknown).toBeUndefined();
  });
});
