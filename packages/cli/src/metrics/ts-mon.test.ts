import { execFileSync } from "node:child_process";
import { chmod, link, mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import type { StatusReport } from "@luci-machine-tokend/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { canActAsNobody, shAsNobody } from "../../../core/src/testing/as-nobody.js";
import { recordingLogger } from "../../../core/src/testing/recording-logger.js";
import { makeTempDir } from "../../../core/src/testing/temp-dir.js";
import { cliOptionsFromFlags, type TsMonOptions } from "../cli-options.js";
import { parseGoFlags } from "../go-flags.js";
import { comparableTsMonText } from "../testing/ts-mon-text.js";
import { flushTsMon, initTsMon, type TsMonAuth } from "./ts-mon.js";

const REPORT: StatusReport = {
  tokendVersion: "1.3",
  startedTs: 1_700_000_000,
  updateOutcome: "TOKEN_IS_GOOD",
  updateReason: "TOKEN_IS_GOOD",
  tokenExpiryTs: 1_700_003_600,
  tokenLastUpdateTs: 1_700_000_000,
  tokenNextUpdateTs: 1_700_001_800,
  totalDurationUs: 1234,
  rpcDurationUs: 0,
  logDump: "",
};

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir();
});
afterEach(() => tmp.remove());

function tsMonFlags(...args: string[]): TsMonOptions {
  const parsed = parseGoFlags([
    "-pkey-pem",
    "k",
    "-cert-pem",
    "c",
    "-backend",
    "b",
    "-token-file",
    "t",
    "-ts-mon-config-file",
    tmp.path("no-config.json"),
    ...args,
  ]);
  if (parsed.kind !== "values") throw new Error("bad flags");
  const checked = cliOptionsFromFlags(parsed.values);
  if ("error" in checked) throw new Error(checked.error);
  return checked.options.tsMon;
}

async function init(args: string[], auth?: TsMonAuth) {
  const logger = recordingLogger();
  const monitor = await initTsMon(tsMonFlags(...args), logger, {
    hostname: () => "Bot-7.Zone1.example.com",
    auth,
  });
  return { monitor, lines: logger.lines.map((l) => `${l.level}: ${l.message}`) };
}

async function flush(monitor: Awaited<ReturnType<typeof init>>["monitor"]) {
  const logger = recordingLogger();
  let raw = "";
  await flushTsMon(monitor, REPORT, {
    logger,
    now: () => new Date(1_700_000_001_500),
    writeRaw: (t) => (raw += t),
  });
  return { lines: logger.lines.map((l) => `${l.level}: ${l.message}`), raw };
}

describe("initTsMon: ts-mon's set-up before the run, as Go's InitializeFromFlags", () => {
  it("is off without an endpoint, or with `none` in any case, saying so at info as Go", async () => {
    expect(await init([])).toEqual({
      monitor: undefined,
      lines: ["info: tsmon is disabled because no endpoint is configured"],
    });
    expect(await init(["-ts-mon-endpoint", "NoNe"])).toEqual({
      monitor: undefined,
      lines: ["info: tsmon is explicitly disabled"],
    });
  });

  it.each([
    ["http://x", "failed to initialize monitor: unsupported tsmon endpoint url: http://x"],
    ["ftp://x", "failed to initialize monitor: unknown tsmon endpoint url: ftp://x"],
    ["metrics.txt", "failed to initialize monitor: unknown tsmon endpoint url: metrics.txt"],
    ["https://", "failed to initialize monitor: interactive login is required"],
    ["https://h:99999/x", "failed to initialize monitor: interactive login is required"],
    ["https://[::1", `failed to initialize monitor: parse "https://[::1": missing ']' in host`],
    ["file:///tmp/%zz", `failed to initialize monitor: parse "file:///tmp/%zz": invalid URL escape "%zz"`],
    [
      "file:///tmp/c\x01",
      `failed to initialize monitor: parse "file:///tmp/c\\x01": net/url: invalid control character in URL`,
    ],
    ["://x", `failed to initialize monitor: parse "://x": missing protocol scheme`],
  ])("%j: Failed to initialize tsmon - %s (the Go binary's line)", async (endpoint, error) => {
    expect(await init(["-ts-mon-endpoint", endpoint])).toEqual({
      monitor: undefined,
      lines: [`error: Failed to initialize tsmon - ${error}`],
    });
  });

  it("takes the endpoint, credentials and target settings from the config file under the flags", async () => {
    await writeFile(
      tmp.path("ts-mon.json"),
      JSON.stringify({
        Endpoint: `file://${tmp.path("m.txt")}`,
        hostname: "cfg-host",
        REGION: "cfg-region",
        other: 1,
      }),
    );
    const { monitor } = await init([
      "-ts-mon-config-file",
      tmp.path("ts-mon.json"),
      "-ts-mon-task-region",
      "flag-region",
    ]);
    expect(monitor).toMatchObject({ kind: "file", path: tmp.path("m.txt") });
    expect(monitor?.labels).toContainEqual(["host_name", "cfg-host"]);
    expect(monitor?.labels).toContainEqual(["data_center", "flag-region"]);

    const seen: unknown[] = [];
    await init(
      [
        "-ts-mon-config-file",
        tmp.path("ts-mon.json"),
        "-ts-mon-endpoint",
        "https://prodx.example.com/v1:insert",
        "-ts-mon-credentials",
        "/k.json",
      ],
      (settings) => {
        seen.push(settings);
        return async () => "Bearer t";
      },
    );
    expect(seen).toEqual([{ credentials: "/k.json", actAs: "" }]);
  });

  it("a config file Go cannot read or decode leaves ts-mon off with Go's line; a missing one is fine", async () => {
    const config = tmp.path("ts-mon.json");
    await writeFile(config, '{"endpoint": 5}');
    expect((await init(["-ts-mon-config-file", config])).lines).toEqual([
      `error: Failed to initialize tsmon - failed to load config file at [${config}]: failed to decode file: json: cannot unmarshal number into Go struct field config.endpoint of type string`,
    ]);
    await writeFile(config, "{");
    expect((await init(["-ts-mon-config-file", config])).lines).toEqual([
      `error: Failed to initialize tsmon - failed to load config file at [${config}]: failed to decode file: not valid JSON`,
    ]);
    expect((await init(["-ts-mon-config-file", tmp.dir])).lines).toEqual([
      `error: Failed to initialize tsmon - failed to load config file at [${tmp.dir}]: failed to decode file: read ${tmp.dir}: is a directory`,
    ]);
    await writeFile(config, '{"autogen_hostname": "yes"}');
    expect((await init(["-ts-mon-config-file", config])).lines).toEqual([
      `error: Failed to initialize tsmon - failed to load config file at [${config}]: failed to decode file: json: cannot unmarshal string into Go struct field config.autogen_hostname of type bool`,
    ]);
    await writeFile(config, "[]");
    expect((await init(["-ts-mon-config-file", config])).lines).toEqual([
      `error: Failed to initialize tsmon - failed to load config file at [${config}]: failed to decode file: json: cannot unmarshal array into Go value of type tsmon.config`,
    ]);
    // Go's decoder reads the first value only: what follows it is not looked at.
    await writeFile(config, '{"endpoint": "file://", "x": "}"} trailing');
    expect((await init(["-ts-mon-config-file", config])).monitor).toMatchObject({ kind: "file", path: "" });
    await writeFile(config, JSON.stringify({ endpoint: null }));
    expect((await init(["-ts-mon-config-file", config])).lines).toEqual([
      "info: tsmon is disabled because no endpoint is configured",
    ]);
  });

  it("refuses a task target without a service name, as Go", async () => {
    expect((await init(["-ts-mon-endpoint", "file://", "-ts-mon-task-service-name", ""])).lines).toEqual([
      "error: Failed to initialize tsmon - failed to configure target from flags: --ts-mon-task-service-name must be provided when using --ts-mon-target-type=task",
    ]);
  });

  it("reads the README's example config file: ProdX's endpoint and a service-account key", async () => {
    const readme = await readFile(new URL("../../../../README.md", import.meta.url), "utf8");
    const example = /\n## Monitoring\n[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    await writeFile(tmp.path("ts-mon.json"), example);
    const seen: unknown[] = [];
    const { monitor } = await init(["-ts-mon-config-file", tmp.path("ts-mon.json")], (settings) => {
      seen.push(settings);
      return async () => "Bearer t";
    });
    expect(monitor).toMatchObject({ kind: "prodx", host: "prodxmon-pa.googleapis.com", port: 443 });
    expect(seen).toEqual([{ credentials: "/path/to/service-account.json", actAs: "" }]);
  });

  it("hands the https endpoint's host and port (443 by default) to the push, whatever its path", async () => {
    const auth: TsMonAuth = () => async () => "Bearer t";
    expect(
      (await init(["-ts-mon-endpoint", "https://prodxmon-pa.googleapis.com/v1:insert"], auth)).monitor,
    ).toMatchObject({
      kind: "prodx",
      host: "prodxmon-pa.googleapis.com",
      port: 443,
    });
    expect((await init(["-ts-mon-endpoint", "https://[::1]:8443/x"], auth)).monitor).toMatchObject({
      host: "::1",
      port: 8443,
    });
  });
});

describe("flushTsMon to file://, as Go's debug monitor", () => {
  it("appends Go's text format per run, logs it at info, and creates the file 0664 before the umask", async () => {
    const path = tmp.path("metrics.txt");
    const { monitor } = await init(["-ts-mon-endpoint", `file://${path}`]);
    const first = await flush(monitor);
    await flush(monitor);
    const text = await readFile(path, "utf8");
    expect(first.lines).toEqual(["info: Sending ts_mon metrics:"]);
    expect(text).toBe(first.raw.repeat(2));
    const payloads = comparableTsMonText(text);
    expect(payloads).toHaveLength(2);
    expect(payloads[0]).toContain('key: "host_name"\n    string_value: "bot-7"');
    expect(payloads[0]).toContain('key: "data_center"\n    string_value: "zone1"');
    const umask = process.umask();
    expect((await stat(path)).mode & 0o777).toBe(0o664 & ~umask);
  });

  it("file://name has no path: Go only logs the payload and writes nothing", async () => {
    const { monitor } = await init(["-ts-mon-endpoint", "file://metrics.txt"]);
    const result = await flush(monitor);
    expect(result.lines).toEqual(["info: Sending ts_mon metrics:"]);
    expect(result.raw).toMatch(/^metrics_collection: <\n/);
    expect(execFileSync("ls", ["-A", tmp.dir]).toString()).toBe("");
  });

  it("decodes the path as Go (%2f is a slash) and logs Go's two lines when it cannot be opened", async () => {
    await mkdir(tmp.path("a"));
    const { monitor } = await init(["-ts-mon-endpoint", `file://${tmp.path("a%2fb.txt")}?q=1#f`]);
    await flush(monitor);
    expect(await readFile(tmp.path("a/b.txt"), "utf8")).toMatch(/^metrics_collection: </);
    const dirMonitor = await init(["-ts-mon-endpoint", `file://${tmp.path("a")}`]);
    expect((await flush(dirMonitor.monitor)).lines.slice(1)).toEqual([
      `error: Failed to open file ${tmp.path("a")}: open ${tmp.path("a")}: is a directory`,
      `error: Failed to send tsmon metrics - open ${tmp.path("a")}: is a directory`,
    ]);
  });

  it("never writes through a FIFO or a hard link planted to another file", async () => {
    const fifo = tmp.path("fifo");
    execFileSync("mkfifo", [fifo]);
    const viaFifo = await flush((await init(["-ts-mon-endpoint", `file://${fifo}`])).monitor);
    expect(viaFifo.lines.at(-1)).toBe(
      `error: Failed to send tsmon metrics - open ${fifo}: not a regular file (it is a FIFO)`,
    );
    await writeFile(tmp.path("precious"), "keep\n");
    await link(tmp.path("precious"), tmp.path("linked.txt"));
    const viaLink = await flush(
      (await init(["-ts-mon-endpoint", `file://${tmp.path("linked.txt")}`])).monitor,
    );
    expect(viaLink.lines.at(-1)).toMatch(/hard links; not written$/);
    expect(await readFile(tmp.path("precious"), "utf8")).toBe("keep\n");
  });

  it.skipIf(!canActAsNobody)(
    "never follows another user's symlink, nor appends to another user's file",
    async () => {
      await chmod(tmp.dir, 0o777);
      await writeFile(tmp.path("precious"), "keep\n");
      shAsNobody(
        `ln -s ${tmp.path("precious")} ${tmp.path("planted.txt")} && touch ${tmp.path("theirs.txt")}`,
      );
      const viaLink = await flush(
        (await init(["-ts-mon-endpoint", `file://${tmp.path("planted.txt")}`])).monitor,
      );
      expect(viaLink.lines.at(-1)).toMatch(
        /a symbolic link owned by uid \d+ \(not this user or root\), not followed$/,
      );
      const theirs = await flush(
        (await init(["-ts-mon-endpoint", `file://${tmp.path("theirs.txt")}`])).monitor,
      );
      expect(theirs.lines.at(-1)).toMatch(/a file owned by uid \d+ \(not this user or root\), not trusted$/);
      expect(await readFile(tmp.path("precious"), "utf8")).toBe("keep\n");
      // Our own symlink is followed, as Go follows it.
      await symlink(tmp.path("mine.txt"), tmp.path("my-link.txt"));
      await flush((await init(["-ts-mon-endpoint", `file://${tmp.path("my-link.txt")}`])).monitor);
      expect(await readFile(tmp.path("mine.txt"), "utf8")).toMatch(/^metrics_collection: </);
    },
  );
});
