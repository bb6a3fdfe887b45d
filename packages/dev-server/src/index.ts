/**
 * A local LUCI Token Server (TokenMinter) speaking pRPC, Connect, gRPC-web and gRPC, with LUCI's
 * validation and fault injection; and a test PKI.
 *
 * @module @luci-machine-tokend/dev-server
 */

export { DEV_SERVER_USAGE, type DevServerCliIo, runDevServerCli } from "./cli.js";
export {
  type FakeProdx,
  type FakeProdxOptions,
  type ProdxAnswer,
  type ProdxInsert,
  prodxError,
  prodxInsertLine,
  startFakeProdx,
} from "./fake-prodx.js";
export type { FaultCount, FaultSettings, Faults, HttpFault } from "./faults.js";
export {
  type FakeGceMetadata,
  type FakeGceMetadataOptions,
  startFakeGceMetadata,
} from "./google/fake-gce-metadata.js";
export type {
  FakeAnswer,
  FakeListenOptions,
  GoogleFakeRequest,
  RunningFake,
} from "./google/fake-google-server.js";
export {
  type FakeIamCredentials,
  type FakeIamCredentialsOptions,
  startFakeIamCredentials,
} from "./google/fake-iam-credentials.js";
export {
  type FakeOAuthGrant,
  type FakeOAuthServer,
  type FakeOAuthServerOptions,
  startFakeOAuthServer,
} from "./google/fake-oauth-server.js";
export { createServiceAccountKey, type TestServiceAccountKey } from "./google/service-account-key.js";
export type { MintOutcome } from "./minter.js";
export {
  type CertificateAuthorityOptions,
  DEFAULT_ISSUED_BY,
  DEFAULT_SERVICE_VERSION,
  type DevServerOptions,
  type DomainOptions,
} from "./options.js";
export type { RecordedRequest, RequestOutcome, RpcProtocol } from "./request-log.js";
export type { RequestSummary } from "./request-summary.js";
export { type DevServer, startDevServer } from "./start-dev-server.js";
export {
  createTestPki,
  type IssueOptions,
  type TestIssuer,
  type TestLeaf,
  type TestPki,
  type TestPkiOptions,
} from "./test-pki.js";
export { createTlsCa, type TlsCa, type TlsServerIdentity } from "./tls-ca.js";
