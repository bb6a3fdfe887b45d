import { create, toBinary } from "@bufbuild/protobuf";
import { TimestampSchema, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { systemNow, systemSleep } from "../common/clock.js";
import { formatGoDuration } from "../common/go-duration.js";
import { silentLogger } from "../common/logger.js";
import { MachineTokenType } from "../gen/tokenserver/machine_token_pb.js";
import {
  MachineTokenRequestSchema,
  type MintMachineTokenResponse,
} from "../gen/tokenserver/minter/token_minter_pb.js";
import { createBackoff } from "./backoff.js";
import { checkMintedToken } from "./check-minted-token.js";
import { MintTokenError } from "./mint-token-error.js";
import {
  failureFromCall,
  printableServiceVersion,
  rpcFailure,
  tokenServerFailure,
} from "./mint-token-failure.js";
import type { MintedToken, MintTokenOptions } from "./mint-token-options.js";
import type { Protocol } from "./protocols.js";
import { isUnusableResponse } from "./unusable-response.js";

/** gRPC codes Go's client retries: UNKNOWN, INTERNAL, UNAVAILABLE, and a per-attempt DEADLINE_EXCEEDED. */
const TRANSIENT_CODES = new Set<Code>([Code.Unknown, Code.Internal, Code.Unavailable, Code.DeadlineExceeded]);

/**
 * {@link mintToken}'s work, as Go's tokenclient: the request built and signed, the call retried.
 * In its own module, with protobuf-es and Connect, so that loading the package root loads neither.
 */
export async function mintTokenRpc(options: MintTokenOptions): Promise<MintedToken> {
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
      if (!TRANSIENT_CODES.has(code) || isUnusableResponse(err)) throw failureFromCall(err);
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
    // A reply that comes in past the deadline (work that blocked the event loop can hold back
    // the deadline's timer) is not used: the token is never saved after the run's deadline.
    if (now().getTime() > deadline) throw deadlineExceeded(protocol, lastError);
    return fromResponse(response, attempt);
  }
}

/** Turns a successful RPC into a token or a MintTokenError, as Go's tokenclient and tokend do. */
function fromResponse(response: MintMachineTokenResponse, attempts: number): MintedToken {
  if (response.errorCode !== 0) {
    throw tokenServerFailure(response.errorCode, response.errorMessage, response.serviceVersion);
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
  return rpcFailure(Code.DeadlineExceeded, text, lastAttempt);
}

function canceled(protocol: Protocol, cause?: unknown): MintTokenError {
  return rpcFailure(Code.Canceled, `${protocol}: call canceled: context canceled`, cause);
}

function describe(err: unknown): string {
  return failureFromCall(err).message;
}
