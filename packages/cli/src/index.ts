/**
 * The CLI of the TypeScript LUCI machine token daemon, and its run as a function for tools that
 * want it in-process.
 *
 * @module luci-machine-tokend
 */

export { parseGoFlags } from "./go-flags.js";
export { type CliIo, main } from "./main.js";
export { prometheusText } from "./metrics/prometheus-text.js";
export { type TokendMetric, tokendMetrics } from "./metrics/tokend-metrics.js";
export { exitCodeOf, runTokend, type TokendDeps } from "./run-tokend.js";
export type { TokendOptions, TsMonOptions } from "./tokend-options.js";
export { tokendOptionsFromFlags } from "./tokend-options.js";
