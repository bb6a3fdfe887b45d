import type { TokenFile } from "../gen/tokenserver/token_file_pb.js";

/** The fields of a token file; int64 values are Unix seconds. Unset fields are zero (left out of the file). */
export type TokenFileInit = Partial<Omit<TokenFile, "$typeName" | "$unknown">>;

/**
 * A TokenFile message with the given fields and every other field at its zero value. A tokend
 * writes `luciMachineToken`, `expiry`, `lastUpdate` and `nextUpdate`. Builds the plain object
 * protobuf-es's `create(TokenFileSchema, init)` would, without loading the protobuf runtime.
 */
export function makeTokenFile(init: TokenFileInit = {}): TokenFile {
  return {
    $typeName: "tokenserver.TokenFile",
    accessToken: "",
    tokenType: "",
    luciMachineToken: "",
    expiry: 0n,
    lastUpdate: 0n,
    nextUpdate: 0n,
    serviceAccountEmail: "",
    serviceAccountUniqueId: "",
    tokendState: new Uint8Array(0),
    ...init,
  };
}
