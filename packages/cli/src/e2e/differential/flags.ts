import { describe, it } from "vitest";
import {
  type DiffWorkspace,
  expectSame,
  type Impl,
  type KeptDifference,
  runBoth,
} from "../../testing/differential.js";
import type { DiffContext } from "./context.js";

/** The command line: missing, help, and every class of bad value Go's flag package refuses. */
export function flagScenarios(suite: { ctx: DiffContext; ws: DiffWorkspace }): void {
  const withFlags = (args: (impl: Impl) => string[], kept?: Record<string, KeptDifference>) =>
    runBoth(suite.ws, args, { serverCalls: suite.ctx.mints }).then((r) => expectSame(r, kept));
  const standard =
    (...extra: string[]) =>
    (impl: Impl) => [...suite.ws.args(impl, suite.ctx.dev.backend), ...extra];

  describe("flag errors and help", () => {
    it("no flags at all", () => withFlags(() => []));
    it("-h", () => withFlags(() => ["-h"]));
    it("--help", () => withFlags(() => ["--help"]));
    it("each required flag missing in turn", async () => {
      for (const name of ["-pkey-pem", "-cert-pem", "-backend", "-token-file"]) {
        await withFlags((impl) => {
          const args = standard()(impl);
          const at = args.indexOf(name);
          return [...args.slice(0, at), ...args.slice(at + 2)];
        });
      }
    });
    it("an unknown flag", () => withFlags(standard("-bogus")));
    it("a flag without its value", () => withFlags(standard("-timeout")));
    it("a bad boolean", () => withFlags(standard("-force-refresh=maybe")));
    it("a duration without a unit", () => withFlags(standard("-timeout", "10")));
    it("a duration with a bad unit", () => withFlags(standard("-timeout", "1x")));
    it("a bad -ts-mon-flush", () => withFlags(standard("-ts-mon-flush", "bogus")));
    it("a bad -ts-mon-target-type", () => withFlags(standard("-ts-mon-target-type", "bogus")));
    it("a bad integer", () => withFlags(standard("-ts-mon-task-number", "1e3")));
    it("an empty -token-file-copy", () => withFlags(standard("-token-file-copy", "")));
  });

  describe("where we differ on purpose (docs/MIGRATING-FROM-GO.md)", () => {
    it("-version: ours prints the version, Go does not know the flag", () =>
      withFlags(() => ["-version"], {
        exitCode: { go: 2, ts: 0 },
        stdout: { go: "empty", ts: "text" },
        stderr: { go: "text", ts: "empty" },
        firstStderrLine: { go: "flag provided but not defined: -version", ts: undefined },
      }));
    it("a mistyped subcommand first: both exit 2 on a required flag (Go ignores the flags after it); ours names the typo first", () =>
      withFlags((impl) => ["chek", ...standard()(impl)], {
        firstStderrLine: { go: "-pkey-pem is required", ts: 'unknown command "chek" (did you mean check?)' },
      }));
    it("a -backend with a scheme: Go retries until -timeout, we refuse the flag", () =>
      withFlags((impl) => [...suite.ws.args(impl, `http://${suite.ctx.dev.backend}`), "-timeout", "1s"], {
        exitCode: { go: 1, ts: 2 },
        "status/update_outcome": { go: "GRPC_ERROR_4", ts: undefined },
        firstStderrLine: {
          go: undefined,
          ts: `invalid value "http://${suite.ctx.dev.backend}" for flag -backend: expecting host[:port]`,
        },
        status: "follows",
        files: "follows",
      }));
  });

  describe("values Go accepts", () => {
    it("base-0 integers: hex, octal, binary, underscores", () =>
      withFlags(
        standard("-ts-mon-task-number", "0x10", "-ts-mon-task-number", "010", "-ts-mon-task-number", "0b1_0"),
      ));
    it("enum values", () => withFlags(standard("-ts-mon-flush", "auto", "-ts-mon-target-type", "device")));
    it("--double-dash flags and -flag=value", () =>
      withFlags((impl) =>
        suite.ws.args(impl, suite.ctx.dev.backend).map((a) => (a.startsWith("-") ? `-${a}` : a)),
      ));
    it("-force-refresh true: `true` is an argument and parsing stops there", async () => {
      await withFlags(standard());
      await withFlags(standard("-force-refresh", "true", "-bogus"));
    });
    it("-timeout 0s: a needed refresh fails at once, a good token is fine", async () => {
      await withFlags(standard("-timeout", "0s"));
      await withFlags(standard());
      await withFlags(standard("-timeout", "0s"));
    });
  });
}
