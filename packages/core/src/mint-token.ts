import { create, toBinary } from "@bufbuild/protobuf";
import { TimestampSchema, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { createBackoff } from "./backoff.js";
import { checkMintedToken } from "./check-minted-token.js";
import { type Now, type Random, type Sleep, systemNow, systemSleep } from "./clock.js";
import { MachineTokenType } from "./gen/tokenserver/machine_token_pb.js";
import {
  MachineTokenRequestSchema,
  type MintMachineTokenResponse,
  type TokenMinter,
} from "./gen/tokenserver/minter/token_minter_pb.js";
import { formatGoDuration } from "./go-duration.js";
import { type Logger, silentLogger } from "./logger.js";
import { MintTokenError, printableServiceVersion } from "./mint-token-error.js";
import type { Protocol } from "./protocols.js";
import { isUnusableResponse } from "./unusable-response.js";
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

/** gRPC codes Go's client retries: UNKNOWN, INTERNAL, UNAVAILABLE, and a per-attempt DEADLINE_EXCEEDED. */
const TRANSIENT_CODES = new Set<Code>([Code.Unknown, Code.Internal, Code.Unavailable, Code.DeadlineExceeded]);

/**
 * Mints a LUCI machine token: builds a MachineTokenRequest (certificate DER, SHA256_RSA_ALGO,
 * issued_at = now with sub-second precision, LUCI_MACHINE_TOKEN), signs its exact serialized bytes
 * and calls TokenMinter.MintMachineToken, retrying transient failures with backoff until the
 * deadline. Throws a {@link MintTokenError}: after the deadline with DEADLINE_EXCEEDED, after an
 * abort with CANCELED, whatever the last attempt's error was (as Go's client does).
 */
export async function mintToken(options: MintTokenOptions): Promise<MintedToken> {
  const now = options.now ?? systemNow;
  const sleep = options.sleep ?? systemSleep;
  const logger = options.logger ?? silentLogger;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = (options.deadline ?? new Date(now().getTime() + timeoutMs)).getTime();
  const signal = options.signal;
  const protocol = options.protocol ?? "prpc";

  const serialized = toBinary(
    MachineTokenRequestSchema,
    create(MachineTokenRequestSchema, {
      certificate: options.signer.certificateDer,
      signatureAlgorithm: options.signer.algorithm,
      issuedAt: timestampFromDate(now()),
      tokenType: MachineTokenType.LUCI_MACHINE_TOKEN,
    }),
  );
  const signature = await options.signer.sign(serialized);
  const backoff = createBackoff({ maxMs: timeoutMs, jitter: options.jitter, random: options.random });

  let lastError: unknown;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw canceled(protocol, signal.reason);
    const remaining = deadline - now().getTime();
    if (remaining <= 0) throw deadlineExceeded(protocol, lastError);
    let response: MintMachineTokenResponse;
    try {
      response = await options.client.mintMachineToken(
        { serializedTokenRequest: serialized, signature },
        { signal, timeoutMs: remaining },
      );
    } catch (err) {
      if (signal?.aborted) throw canceled(protocol, err);
      const code = ConnectError.from(err, Code.Internal).code;
      if (!TRANSIENT_CODES.has(code) || isUnusableResponse(err)) throw MintTokenError.fromCall(err);
      lastError = err;
      const delay = backoff.next();
      const left = deadline - now().getTime();
      if (left <= 0) throw deadlineExceeded(protocol, err);
      logger.log("warning", `RPC failed transiently (retry in ${formatGoDuration(delay)}): ${describe(err)}`);
      try {
        await sleep(Math.min(delay, left), signal);
      } catch (sleepErr) {
        throw canceled(protocol, sleepErr);
      }
      if (delay >= left) throw deadlineExceeded(protocol, err);
      continue;
    }
    return fromResponse(response, attempt);
  }
}

/** Turns a successful RPC into a token or a MintTokenError, as Go's tokenclient and tokend do. */
function fromResponse(response: MintMachineTokenResponse, attempts: number): MintedToken {
  if (response.errorCode !== 0) {
    throw MintTokenError.tokenServer(response.errorCode, response.errorMessage, response.serviceVersion);
  }
  const tokenResponse = response.tokenResponse;
  if (tokenResponse === undefined) {
    // Go's tokenclient returns a plain error here: no service version reaches the status file.
    throw new MintTokenError("token server didn't return a token", { kind: "no-token" });
  }
  const serviceVersion = printableServiceVersion(tokenResponse.serviceVersion);
  const minted = tokenResponse.tokenType;
  if (minted.case !== "luciMachineToken") {
    throw new MintTokenError("bad response, empty luci_machine_token field", {
      kind: "malformed",
      serviceVersion,
    });
  }
  // Go takes a missing expiry as the Unix epoch: a past expiry, scheduled with the 5-minute floor.
  const expiry = minted.value.expiry ?? create(TimestampSchema);
  const problem = checkMintedToken(minted.value.machineToken, expiry);
  if (problem) throw new MintTokenError(`bad response, ${problem}`, { kind: "malformed", serviceVersion });
  return {
    token: minted.value.machineToken,
    expiry: timestampDate(expiry),
    serviceVersion,
    attempts,
  };
}

/**
 * Go's words for a call out of time, then (ours) the last attempt's error, so that the status
 * file alone says why: refused, unknown host, an untrusted certificate, a 502.
 */
function deadlineExceeded(protocol: Protocol, lastAttempt?: unknown): MintTokenError {
  const goText = `${protocol}: overall deadline exceeded: context deadline exceeded`;
  const text = lastAttempt === undefined ? goText : `${goText}; last attempt: ${describe(lastAttempt)}`;
  return MintTokenError.rpc(Code.DeadlineExceeded, text, lastAttempt);
}

function canceled(protocol: Protocol, cause?: unknown): MintTokenError {
  return MintTokenError.rpc(Code.Canceled, `${protocol}: call canceled: context canceled`, cause);
}

function describe(err: unknown): string {
  return MintTokenError.fromCall(err).message;
}
