/**
 * luci-machine-tokend: the CLI of the TypeScript LUCI machine token daemon, and its run as a
 * function for tools that want it in-process.
 */

export { type CliIo, main } from "./main.js";
export { exitCodeOf, runTokend, type TokendDeps } from "./run-tokend.js";
export type { TokendOptions, TsMonOptions } from "./tokend-options.js";
export { tokendOptionsFromFlags } from "./tokend-options.js";
export { parseGoFlags } from "./go-flags.js";
export { prometheusText } from "./metrics/prometheus-text.js";
export { tokendMetrics, type TokendMetric } from "./metrics/tokend-metrics.js";
