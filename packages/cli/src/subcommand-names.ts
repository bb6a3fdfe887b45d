/** The CLI's subcommands; any other first word starts a tokend run with Go's flags. */
export const SUBCOMMAND_NAMES = ["inspect", "check", "csr", "dev-server", "demo"] as const;
export type SubcommandName = (typeof SUBCOMMAND_NAMES)[number];
