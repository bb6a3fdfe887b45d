/**
 * The buf-generated protobuf-es code of LUCI's token server protos, unchanged: messages and their
 * schemas (`create(TokenFileSchema, …)`, `toBinary`, `fromBinary`), enums, and the TokenMinter
 * service for Connect clients and servers. Names and numbers are LUCI's. Importing this entry
 * loads the protobuf-es runtime. Also {@link errorCodeName}, the name of an ErrorCode number.
 *
 * @module @luci-machine-tokend/core/gen
 */

export * from "./gen/tokenserver/machine_token_pb.js";
export * from "./gen/tokenserver/minter/token_minter_pb.js";
export * from "./gen/tokenserver/token_file_pb.js";
export { errorCodeName } from "./mint/error-code-name.js";
