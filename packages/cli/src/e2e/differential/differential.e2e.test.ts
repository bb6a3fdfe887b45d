import { afterAll, afterEach, beforeAll, beforeEach, describe } from "vitest";
import { createDiffWorkspace, type DiffWorkspace } from "../../testing/differential.js";
import { GO_TOKEND, GO_TOKEND_SKIP_REASON } from "../../testing/go-tokend.js";
import { type DiffContext, startDiffContext, stopDiffContext } from "./context.js";
import { flagScenarios } from "./flags.js";
import { lifeScenarios } from "./life.js";
import { localInputScenarios } from "./local-inputs.js";
import { redirectScenarios } from "./redirects.js";
import { runControlScenarios } from "./run-control.js";
import { serverAnswerScenarios } from "./server-answers.js";
import { tlsScenarios } from "./tls.js";
import { tokenFileSpellingScenarios } from "./token-file-spellings.js";
import { tsMonScenarios } from "./ts-mon.js";

// Every scenario runs the upstream Go binary and our CLI with the same flags, each in its own
// directory, against the same server, and compares what they did (testing/differential.ts).
if (GO_TOKEND === undefined) console.log(GO_TOKEND_SKIP_REASON);

describe.skipIf(GO_TOKEND === undefined)("ours against the Go luci_machine_tokend", () => {
  const suite = {} as { ctx: DiffContext; ws: DiffWorkspace };
  beforeAll(async () => {
    suite.ctx = await startDiffContext();
  });
  afterAll(() => stopDiffContext(suite.ctx));
  beforeEach(async () => {
    suite.ctx.dev.faults.clear();
    suite.ctx.raw.reset();
    suite.ws = await createDiffWorkspace(suite.ctx.pki.keyPem, suite.ctx.pki.certPem);
  });
  afterEach(() => suite.ws.cleanup());

  lifeScenarios(suite);
  tokenFileSpellingScenarios(suite);
  serverAnswerScenarios(suite);
  redirectScenarios(suite);
  localInputScenarios(suite);
  runControlScenarios(suite);
  tlsScenarios(suite);
  flagScenarios(suite);
  tsMonScenarios(suite);
});
