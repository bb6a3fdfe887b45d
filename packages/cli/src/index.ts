/**
 * The CLI of the TypeScript LUCI machine token daemon, and its run as a function for tools that
 * want it in-process.
 *
 * @module luci-machine-tokend
 */

export type { CliIo } from "./cli-io.js";
export {
  type CliOptions,
  type CliOptionsResult,
  cliOptionsFromFlags,
  type TsMonOptions,
} from "./cli-options.js";
export { parseGoFlags } from "./go-flags.js";
export { main } from "./main.js";
export { prometheusText } from "./metrics/prometheus-text.js";
export { type TokendMetric, tokendMetrics } from "./metrics/tokend-metrics.js";
export type { TsMonAuth, TsMonAuthSettings, TsMonInitDeps } from "./metrics/ts-mon.js";
export type { TokendDeps } from "./run-deps.js";
export { exitCodeOf, runTokend } from "./run-tokend.js";
export {
  type ResolvedTokendOptions,
  resolveTokendOptions,
  TOKEND_DEFAULTS,
  type TokendOptions,
} from "./tokend-options.js";
