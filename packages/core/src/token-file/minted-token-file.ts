import { formatGoDuration } from "../common/go-duration.js";
import { type Logger, silentLogger } from "../common/logger.js";
import type { TokenFile } from "../gen/tokenserver/token_file_pb.js";
import type { MintedToken } from "../mint/mint-token.js";
import { makeTokenFile } from "./make-token-file.js";
import { type NextUpdate, nextUpdateTime } from "./next-update-time.js";
import { TOKEND_VERSION, type TokendState } from "./tokend-state.js";

/** What a tokend saves for a freshly minted token: the file's fields, its state and the schedule. */
export interface MintedTokenFile {
  /** The token file: token, expiry, last_update = the minting time, next_update. */
  token: TokenFile;
  /** `tokend_state`: the inputs digest the token was minted for and {@link TOKEND_VERSION}. */
  state: TokendState;
  /** How next_update was computed (see {@link nextUpdateTime}). */
  schedule: NextUpdate;
}

/**
 * The token file Go tokend writes after a successful MintMachineToken: times in Unix seconds,
 * next_update at half the remaining life from `mintedAt` (taken after the RPC returned), and the
 * state that lets the next run see the token is still good. Logs Go's warning when the
 * lifetime is under the 5-minute floor. Shared by the CLI's run and {@link startTokenRefresher}.
 */
export function mintedTokenFile(
  minted: Pick<MintedToken, "token" | "expiry">,
  mintedAt: Date,
  inputsDigest: string,
  logger: Logger = silentLogger,
): MintedTokenFile {
  const schedule = nextUpdateTime(mintedAt, minted.expiry);
  if (schedule.clamped) {
    logger.log(
      "warning",
      `Token lifetime is too short (${formatGoDuration(minted.expiry.getTime() - mintedAt.getTime())}), assuming 5m0s`,
    );
  }
  const token = makeTokenFile({
    luciMachineToken: minted.token,
    expiry: BigInt(Math.floor(minted.expiry.getTime() / 1000)),
    lastUpdate: BigInt(Math.floor(mintedAt.getTime() / 1000)),
    nextUpdate: schedule.nextUpdate,
  });
  return { token, state: { inputsDigest, version: TOKEND_VERSION }, schedule };
}
