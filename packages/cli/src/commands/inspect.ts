import { type DecodedMachineToken, decodeMachineToken, readTokenFile } from "@luci-machine-tokend/core";
import {
  escapeForLog,
  formatGoDuration,
  MAX_MESSAGE_TEXT,
  printableError,
  readCapped,
  systemNow,
} from "@luci-machine-tokend/core/internal";
import type { CliIo } from "../cli-io.js";
import { parseSubcommand } from "./yargs-program.js";

/** What `inspect` reports; `--json` prints exactly this object. */
export interface InspectReport {
  token_file: string;
  valid: boolean;
  problem?: string;
  machine_fqdn?: string;
  issued_by?: string;
  issued_at?: string;
  lifetime_s?: number;
  ca_id?: string;
  cert_serial?: string;
  key_id?: string;
  expiry?: string;
  next_update?: string;
  last_update?: string;
  seconds_left?: number;
  last_status?: { outcome?: string; reason?: string; failure_error?: string; started?: string };
}

/**
 * `inspect -token-file P [-status-file P] [--json]`: decodes the token (no signature check) and
 * says whether it is still valid. Exit 0 while unexpired; 1 when expired, missing or undecodable,
 * so it can gate monitoring or a systemd ExecCondition.
 */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const parsed = await parseSubcommand("inspect", argv, io, (y) =>
    y
      .usage("$0 -token-file P [-status-file P] [--json]\n\nDecodes the machine token and its status.")
      .option("token-file", { type: "string", demandOption: true, describe: "The token file to inspect" })
      .option("status-file", { type: "string", describe: "The tokend status file, for the last outcome" })
      .option("json", { type: "boolean", default: false, describe: "Print one JSON object" }),
  );
  if ("exitCode" in parsed) return parsed.exitCode;
  const { args } = parsed;
  const now = (io.deps?.now ?? systemNow)();
  const report = await inspectTokenFile(args["token-file"], now);
  if (args["status-file"]) report.last_status = await readLastStatus(args["status-file"]);
  io.stdout(args.json ? `${JSON.stringify(report)}\n` : textReport(report, now));
  return report.valid ? 0 : 1;
}

/**
 * Reads and decodes a token file; never throws. Every text taken from the files (the token's
 * FQDN, issuer and key id, errors, the last status) is escaped to one printable line.
 */
export async function inspectTokenFile(path: string, now: Date): Promise<InspectReport> {
  const warnings: string[] = [];
  const { token } = await readTokenFile(path, { logger: { log: (_l, m) => warnings.push(m) } });
  if (!token || token.luciMachineToken === "") {
    return { token_file: path, valid: false, problem: escapeForLog(warnings[0] ?? "no token file") };
  }
  let decoded: DecodedMachineToken | undefined;
  let problem: string | undefined;
  try {
    decoded = await decodeMachineToken(token.luciMachineToken);
  } catch (err) {
    problem = printableError(err);
  }
  const expiryMs = Number(token.expiry) * 1000;
  const secondsLeft = Math.floor((expiryMs - now.getTime()) / 1000);
  if (problem === undefined && secondsLeft <= 0) problem = "the token has expired";
  const iso = (s: bigint) => (s === 0n ? undefined : isoSeconds(s));
  return {
    token_file: path,
    valid: problem === undefined,
    ...(problem !== undefined && { problem }),
    ...(decoded && {
      machine_fqdn: escapeForLog(decoded.body.machineFqdn),
      issued_by: escapeForLog(decoded.body.issuedBy),
      issued_at: decoded.issuedAt.toISOString(),
      lifetime_s: Number(decoded.body.lifetime),
      ca_id: String(decoded.body.caId),
      cert_serial: decoded.certSerialHex,
      key_id: escapeForLog(decoded.keyId),
    }),
    expiry: iso(token.expiry),
    next_update: iso(token.nextUpdate),
    last_update: iso(token.lastUpdate),
    seconds_left: secondsLeft,
  };
}

async function readLastStatus(path: string): Promise<InspectReport["last_status"]> {
  let status: Record<string, unknown>;
  try {
    // Read safely (no FIFO, no other user's symlink), and never quote it: it may not be ours.
    const parsed: unknown = JSON.parse(
      new TextDecoder().decode(await readCapped(path, MAX_STATUS_FILE_BYTES)),
    );
    status = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch (err) {
    const why = err instanceof SyntaxError ? "not valid JSON" : printableError(err);
    return { failure_error: `cannot read the status file: ${why}` };
  }
  try {
    return {
      outcome: printableField(status.update_outcome),
      reason: printableField(status.update_reason),
      failure_error: printableField(status.failure_error),
      started:
        typeof status.started_ts === "number" ? new Date(status.started_ts * 1000).toISOString() : undefined,
    };
  } catch (err) {
    return { failure_error: `cannot read the status file: ${printableError(err)}` };
  }
}

/** A status file is a few KiB (its log_dump); past this it is not one. */
const MAX_STATUS_FILE_BYTES = 4 << 20;

/** A string field of the status file, escaped; anything else is left out. */
function printableField(value: unknown): string | undefined {
  return typeof value === "string" ? escapeForLog(value, MAX_MESSAGE_TEXT) : undefined;
}

/** Unix seconds as ISO 8601; a value no date can hold (Go writes such expiries) is shown as seconds. */
function isoSeconds(seconds: bigint): string {
  const date = new Date(Number(seconds) * 1000);
  return Number.isNaN(date.getTime()) ? `${seconds} s since 1970` : date.toISOString();
}

function textReport(r: InspectReport, now: Date): string {
  const rows: Array<[string, string | undefined]> = [
    ["token file", r.token_file],
    ["valid", r.valid ? "yes" : `no - ${r.problem}`],
    ["machine", r.machine_fqdn],
    ["issued by", r.issued_by],
    ["issued at", r.issued_at],
    ["lifetime", r.lifetime_s === undefined ? undefined : formatGoDuration(r.lifetime_s * 1000)],
    ["expires", r.expiry && `${r.expiry} (${relative(Date.parse(r.expiry) - now.getTime())})`],
    [
      "next update",
      r.next_update && `${r.next_update} (${relative(Date.parse(r.next_update) - now.getTime())})`,
    ],
    ["last update", r.last_update],
    ["CA id", r.ca_id],
    ["cert serial", r.cert_serial],
    ["signing key", r.key_id],
  ];
  if (r.last_status) {
    const s = r.last_status;
    rows.push([
      "last run",
      [s.outcome, s.reason && `(${s.reason})`, s.started && `at ${s.started}`].filter(Boolean).join(" "),
    ]);
    if (s.failure_error) rows.push(["last error", s.failure_error]);
  }
  return `${rows
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${`${k}:`.padEnd(13)}${v}`)
    .join("\n")}\n`;
}

function relative(ms: number): string {
  if (Number.isNaN(ms)) return "beyond any date";
  const text = formatGoDuration(Math.round(Math.abs(ms) / 1000) * 1000);
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}
