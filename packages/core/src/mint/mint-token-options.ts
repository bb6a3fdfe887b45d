import type { Client } from "@connectrpc/connect";
import type { Now, Random, Sleep } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import type { TokenMinter } from "../gen/tokenserver/minter/token_minter_pb.js";
import type { Protocol } from "./protocols.js";
import type { Signer } from "./x509-signer.js";

/** The one RPC mintToken needs, so tests can pass an object literal. */
export type TokenMinterClient = Pick<Client<typeof TokenMinter>, "mintMachineToken">;

/** Options of {@link mintToken}. */
export interface MintTokenOptions {
  /** The TokenMinter client (see createTokenMinterClient). */
  client: TokenMinterClient;
  /** The machine's certificate and key. */
  signer: Signer;
  /** Overall time allowed, retries included; also the cap on one retry delay. Default 60 s. */
  timeoutMs?: number;
  /** Absolute deadline of the whole call; default now + timeoutMs. */
  deadline?: Date;
  /** Cancels the call (reported as CANCELED). */
  signal?: AbortSignal;
  /** The client's protocol, named in deadline and cancellation errors as Go's `prpc:`. Default "prpc". */
  protocol?: Protocol;
  /** Spread retry delays (default true); false gives Go's exact 200 ms × 1.5 schedule. */
  jitter?: boolean;
  now?: Now;
  sleep?: Sleep;
  random?: Random;
  logger?: Logger;
}

/** A minted token. */
export interface MintedToken {
  /** The machine token (opaque to tokend). */
  token: string;
  /** When it expires (server clock). */
  expiry: Date;
  /** The token server's `<app-id>/<version>`. */
  serviceVersion: string;
  /** How many calls were made, the successful one included. */
  attempts: number;
}
