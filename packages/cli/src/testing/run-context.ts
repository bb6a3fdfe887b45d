import type { Logger } from "@luci-machine-tokend/core";
import type { TestPki } from "@luci-machine-tokend/dev-server";
import { createFakeClock, type FakeClock } from "../../../core/src/testing/fake-clock.js";
import { createFakeMinter, type FakeMinter, tokenReply } from "../../../core/src/testing/fake-minter.js";
import type { TokendDeps } from "../run-deps.js";
import { createTokendFixture, type TokendFixture } from "./tokend-fixture.js";

/** Everything a runTokend test touches: files, a fake clock, a scripted minter and the log. */
export interface RunContext {
  fx: TokendFixture;
  clock: FakeClock;
  /** Every line logged, as `<level>: <message>`. */
  logs: string[];
  /** Answers the RPCs; by default `token-<n>` living one hour. Replace it to script other answers. */
  minter: FakeMinter;
  /** Deps for runTokend on the fake clock (durations too), without jitter, with the minter. */
  deps(extra?: Partial<TokendDeps>): TokendDeps;
}

/** Makes a {@link RunContext} in a new temp directory; call `fx.cleanup()` after the test. */
export async function createRunContext(pki: TestPki, start: Date): Promise<RunContext> {
  const fx = await createTokendFixture(pki);
  const clock = createFakeClock(start);
  const logs: string[] = [];
  const logger: Logger = { log: (level, m) => logs.push(`${level}: ${m}`) };
  const context: RunContext = {
    fx,
    clock,
    logs,
    minter: createFakeMinter((_r, n) =>
      tokenReply(`token-${n}`, new Date(clock.now().getTime() + 3_600_000)),
    ),
    deps: (extra = {}) => ({
      now: clock.now,
      monotonic: () => clock.now().getTime(),
      sleep: clock.sleep,
      jitter: false,
      logger,
      createClient: () => context.minter.client,
      ...extra,
    }),
  };
  return context;
}
