import type { Interceptor } from "@connectrpc/connect";
import type { UniversalClientFn } from "@connectrpc/connect/protocol";
import type { Logger } from "../common/logger.js";
import type { BackendConnectionOptions } from "../net/backend-target.js";
import type { Protocol } from "./protocols.js";

/** Options of {@link createTokenMinterClient}. */
export interface TokenMinterClientOptions extends BackendConnectionOptions {
  /** Default "prpc", as Go's client. */
  protocol?: Protocol;
  /** Replaces the HTTP client of the pRPC transport (tests); the connection setup is then not used. */
  httpClient?: UniversalClientFn;
  /** Connect interceptors, run around every call (after the connection hints, before the size cap). */
  interceptors?: Interceptor[];
  logger?: Logger;
}
