/**
 * The upstream Go `luci_machine_tokend`, for tests that compare it with ours. Found through the
 * LUCI_GO_TOKEND environment variable only; users of the repo do not have it, and such tests skip.
 */
export const GO_TOKEND: string | undefined = process.env.LUCI_GO_TOKEND || undefined;

/** The one line a skipped suite prints. */
export const GO_TOKEND_SKIP_REASON =
  "LUCI_GO_TOKEND is not set: the differential suite against the Go luci_machine_tokend is skipped";
