import { ErrorCodeSchema } from "../gen/tokenserver/minter/token_minter_pb.js";

/** The name of a LUCI token server ErrorCode (`BAD_TIMESTAMP`, …); unknown numbers print as digits. */
export function errorCodeName(code: number): string {
  return ErrorCodeSchema.values.find((v) => v.number === code)?.name ?? String(code);
}
