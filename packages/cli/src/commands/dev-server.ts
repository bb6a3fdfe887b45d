import { runDevServerCli } from "@luci-machine-tokend/dev-server";
import type { CliIo } from "../cli-io.js";

/** `dev-server …`: the local LUCI token server, until SIGINT/SIGTERM (see DEV_SERVER_USAGE). */
export function run(argv: string[], io: CliIo): Promise<number> {
  return runDevServerCli(argv, io);
}
