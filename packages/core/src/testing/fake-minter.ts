import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type MachineTokenRequest,
  MachineTokenRequestSchema,
  type MintMachineTokenResponse,
  MintMachineTokenResponseSchema,
} from "../gen/tokenserver/minter/token_minter_pb.js";
import type { TokenMinterClient } from "../mint/mint-token-options.js";

/** What the fake minter answers: a response (init shape), or an error to throw. */
export type FakeReply = MessageInitShape<typeof MintMachineTokenResponseSchema> | Error;

/** A TokenMinterClient that records the decoded requests and answers from a script. */
export interface FakeMinter {
  client: TokenMinterClient;
  requests: MachineTokenRequest[];
}

/** A successful answer with a token that expires at `expiry`. */
export function tokenReply(token: string, expiry: Date, serviceVersion = "unit-tests/mocked-ver"): FakeReply {
  return {
    serviceVersion,
    tokenResponse: {
      serviceVersion,
      tokenType: {
        case: "luciMachineToken",
        value: { machineToken: token, expiry: timestampFromDate(expiry) },
      },
    },
  };
}

/** Creates a fake minter; `reply` is called per request with the decoded request. */
export function createFakeMinter(reply: (req: MachineTokenRequest, n: number) => FakeReply): FakeMinter {
  const requests: MachineTokenRequest[] = [];
  return {
    requests,
    client: {
      async mintMachineToken(input): Promise<MintMachineTokenResponse> {
        const req = fromBinary(MachineTokenRequestSchema, input.serializedTokenRequest ?? new Uint8Array());
        requests.push(req);
        const answer = reply(req, requests.length);
        if (answer instanceof Error) throw answer;
        return create(MintMachineTokenResponseSchema, answer);
      },
    },
  };
}
