import { PROTOCOLS } from "@luci-machine-tokend/core/internal";

/**
 * Every flag of the tokend run, in one table: Go tokend's own flags, the ts-mon flags it registers
 * (accepted so existing cron lines keep working), and ours. The Go-syntax parser, the defaults of
 * the run's options and the usage text are all made from it.
 */

/**
 * How a flag's value is read: `strings` is repeatable, `enum` takes one of `choices`, `mode` is an
 * octal file mode (ours).
 */
export type FlagKind = "string" | "strings" | "bool" | "duration" | "int" | "enum" | "mode";

/** One flag. */
export interface FlagSpec {
  /** The name without dashes, as on the command line. */
  name: string;
  kind: FlagKind;
  /** Our usage text (Go's layout, our words). */
  usage: string;
  /** The default as text (Go's DefValue); none means the type's zero value. */
  default?: string;
  /** The usage shows no default although there is one (Go's does not: it is the type's zero value). */
  hideDefault?: boolean;
  /** `enum` only: the accepted values. */
  choices?: readonly string[];
  /** `enum` only: the error for any other value, in the words of the Go binary for its flags. */
  invalidChoice?: (value: string) => string;
  /** The type word in the usage where Go's would say `value` (Go's back-quoted usage name). */
  typeName?: string;
  /** Not in Go tokend (shown in its own usage section; Go says `flag provided but not defined`). */
  ours?: boolean;
}

/** Go tokend's own flags. */
const TOKEND_FLAGS: FlagSpec[] = [
  {
    name: "backend",
    kind: "string",
    usage: "host name of the token server, with an optional :port (e.g. luci-token-server.appspot.com)",
  },
  { name: "cert-pem", kind: "string", usage: "file with the machine's certificate (PEM)" },
  { name: "force-refresh", kind: "bool", usage: "mint a new token even when the current one is still good" },
  { name: "pkey-pem", kind: "string", usage: "file with the machine's private key (PEM)" },
  { name: "status-file", kind: "string", usage: "optional file for a JSON report of the run" },
  {
    name: "timeout",
    kind: "duration",
    usage: "deadline of the whole run, retries included; also the longest wait between two attempts",
    default: "1m0s",
  },
  { name: "token-file", kind: "string", usage: "file that holds the machine token (the only one read back)" },
  {
    name: "token-file-copy",
    kind: "strings",
    usage: "one more file to keep a copy of the token in; repeat the flag for several",
  },
];

/** The ts-mon flags Go tokend registers, with tokend's defaults. */
const TS_MON_FLAGS: FlagSpec[] = [
  {
    name: "ts-mon-act-as",
    kind: "string",
    usage:
      "(advanced) service account to impersonate towards the metrics backend; overrides the ts-mon config file",
  },
  {
    name: "ts-mon-autogen-hostname",
    kind: "bool",
    usage: "mark the host name as generated (autoscaled VMs, pods and other hosts with dynamic names)",
  },
  {
    name: "ts-mon-config-file",
    kind: "string",
    usage:
      'JSON file with this machine\'s ts-mon "endpoint" and "credentials", shared by every process on it',
    default: process.platform === "win32" ? "C:\\chrome-infra\\ts-mon.json" : "/etc/chrome-infra/ts-mon.json",
  },
  {
    name: "ts-mon-credentials",
    kind: "string",
    usage: "credentials file (PKCS#8 JSON) for the metrics backend; overrides the ts-mon config file",
  },
  { name: "ts-mon-device-hostname", kind: "string", usage: "device target: host name" },
  { name: "ts-mon-device-network", kind: "string", usage: "device target: network" },
  { name: "ts-mon-device-region", kind: "string", usage: "device target: region" },
  { name: "ts-mon-device-role", kind: "string", usage: "device target: role", default: "default" },
  {
    name: "ts-mon-endpoint",
    kind: "string",
    usage:
      "where metrics go: file://PATH appends them as text, https://HOST pushes them to ProdX (gRPC), none turns them off; overrides the ts-mon config file",
  },
  {
    name: "ts-mon-flush",
    kind: "enum",
    usage: "metrics push mode, manual or auto; either way a run sends its metrics once, when it ends",
    default: "manual",
    // manual is the zero value of ts-mon's flush type, so Go's usage shows no default.
    hideDefault: true,
    choices: ["auto", "manual"],
    invalidChoice: () => "flagenum: Invalid value; must be one of [auto, manual]",
  },
  {
    name: "ts-mon-flush-interval",
    kind: "duration",
    usage: "push interval of -ts-mon-flush=auto (accepted for compatibility)",
    default: "1m0s",
  },
  {
    name: "ts-mon-target-type",
    kind: "enum",
    usage: "kind of metrics target: task or device",
    default: "task",
    choices: ["task", "device"],
    invalidChoice: (value) => `unknown --ts-mon-target-type '${value}'`,
  },
  { name: "ts-mon-task-hostname", kind: "string", usage: "task target: host name" },
  { name: "ts-mon-task-job-name", kind: "string", usage: "task target: job name", default: "default" },
  { name: "ts-mon-task-number", kind: "int", usage: "task target: replica number" },
  { name: "ts-mon-task-region", kind: "string", usage: "task target: region" },
  {
    name: "ts-mon-task-service-name",
    kind: "string",
    usage: "task target: service name",
    default: "luci_machine_tokend",
  },
];

/** Flags beyond Go tokend. */
const OUR_FLAGS = (
  [
    {
      name: "ca-bundle",
      kind: "string",
      usage: "PEM file of extra trust roots for the backend's TLS certificate",
    },
    {
      name: "daemon",
      kind: "bool",
      usage: "stay running: refresh at next_update, retry with backoff, SIGHUP refreshes now",
    },
    {
      name: "dry-run",
      kind: "bool",
      usage: "read and decide, print what would be done; no RPC, no writes",
    },
    {
      name: "exec",
      kind: "string",
      usage: "shell command to run after a refresh changed the token (LUCI_MACHINE_TOKEN_FILE is set)",
    },
    { name: "exec-timeout", kind: "duration", usage: "how long the -exec command may run", default: "30s" },
    {
      name: "listen-health",
      kind: "string",
      usage: "with -daemon: serve /healthz and /metrics on this host:port",
    },
    {
      name: "pkey-passphrase-file",
      kind: "string",
      usage: "file holding the passphrase of an encrypted private key",
    },
    {
      name: "prometheus-textfile",
      kind: "string",
      usage: "also write the metrics in node_exporter textfile format to this path",
    },
    {
      name: "protocol",
      kind: "enum",
      usage: `wire protocol: ${PROTOCOLS.join(", ")}`,
      default: "prpc",
      choices: PROTOCOLS,
      invalidChoice: () => `must be one of ${PROTOCOLS.join(", ")}`,
    },
    {
      name: "splay",
      kind: "duration",
      usage: "wait a random time up to this before the run, to spread a fleet's cron",
    },
    {
      name: "token-file-mode",
      kind: "mode",
      usage: "file mode (octal) of token files, before the umask",
      default: "0644",
      typeName: "mode",
    },
    { name: "version", kind: "bool", usage: "print the version of this program and exit" },
  ] satisfies FlagSpec[]
).map((f): FlagSpec => ({ ...f, ours: true }));

/** All flags of the tokend run, by name. */
export const FLAGS: ReadonlyMap<string, FlagSpec> = new Map(
  [...TOKEND_FLAGS, ...TS_MON_FLAGS, ...OUR_FLAGS].map((f) => [f.name, f]),
);

/** Required flags, in the order Go checks them. */
export const REQUIRED_FLAGS = ["pkey-pem", "cert-pem", "backend", "token-file"] as const;
