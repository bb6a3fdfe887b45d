import { describe, expect, it } from "vitest";
import type { TsMonOptions } from "../cli-options.js";
import type { TsMonConfig } from "./ts-mon-config.js";
import { tsMonRootLabels } from "./ts-mon-target.js";

const FLAGS: TsMonOptions = {
  configFile: "",
  endpoint: "file://",
  credentials: "",
  actAs: "",
  flush: "manual",
  targetType: "task",
  deviceHostname: "",
  deviceRegion: "",
  deviceRole: "default",
  deviceNetwork: "",
  taskServiceName: "luci_machine_tokend",
  taskJobName: "default",
  taskRegion: "",
  taskHostname: "",
  taskNumber: 0,
  autogenHostname: false,
};
const NO_CONFIG: TsMonConfig = {
  endpoint: "",
  credentials: "",
  actAs: "",
  autogenHostname: false,
  hostname: "",
  region: "",
};
const CONFIG: TsMonConfig = {
  ...NO_CONFIG,
  hostname: "Cfg-Host",
  region: "cfg-region",
  autogenHostname: true,
};
const PROXY = ["proxy_environment: pa", "acquisition_name: mon-chrome-infra", "proxy_zone: atl"];

function labels(flags: Partial<TsMonOptions>, config = NO_CONFIG, host = "vm"): string[] {
  const result = tsMonRootLabels({ ...FLAGS, ...flags }, config, host);
  if ("error" in result) throw new Error(result.error);
  return result.labels.map(([k, v]) => `${k}: ${v}`);
}

// Every expectation below is what the Go binary sent on a host named `vm` (its file:// dump).
describe("tsMonRootLabels (Go's InitializeFromFlags + SetDefaultsFromHostname + NewFromFlags)", () => {
  it("task target from the OS host name; the config's hostname, region and autogen_hostname under the flags", () => {
    expect(labels({})).toEqual([
      ...PROXY,
      "service_name: luci_machine_tokend",
      "job_name: default",
      "data_center: unknown",
      "host_name: vm",
      "task_num: 0",
      "is_tsmon: true",
    ]);
    expect(labels({}, CONFIG)).toContain("host_name: autogen:Cfg-Host");
    expect(labels({}, CONFIG)).toContain("data_center: cfg-region");
    const flagged = labels(
      { taskHostname: "fh", taskRegion: "fr", taskJobName: "j", taskServiceName: "s", taskNumber: 3 },
      CONFIG,
    );
    expect(flagged).toEqual([
      ...PROXY,
      "service_name: s",
      "job_name: j",
      "data_center: fr",
      "host_name: autogen:fh",
      "task_num: 3",
      "is_tsmon: true",
    ]);
  });

  it("device target: Go's fixed labels, the flags, then the config and the host", () => {
    const fixed = ["pop: ", "alertable: true", "realm: ACQ_CHROME", "asn: 0"];
    expect(labels({ targetType: "device" })).toEqual([
      ...PROXY,
      ...fixed,
      "metro: unknown",
      "role: default",
      "hostname: vm",
      "vendor: ",
      "hostgroup: ",
      "is_tsmon: true",
    ]);
    expect(
      labels({
        targetType: "device",
        deviceHostname: "Dev-H",
        deviceRegion: "dr",
        deviceRole: "r1",
        deviceNetwork: "n1",
        autogenHostname: true,
      }),
    ).toEqual([
      ...PROXY,
      ...fixed,
      "metro: dr",
      "role: r1",
      "hostname: autogen:Dev-H",
      "vendor: ",
      "hostgroup: n1",
      "is_tsmon: true",
    ]);
    expect(labels({ targetType: "device", deviceRole: "" }, CONFIG)).toEqual([
      ...PROXY,
      ...fixed,
      "metro: cfg-region",
      "role: ",
      "hostname: autogen:Cfg-Host",
      "vendor: ",
      "hostgroup: ",
      "is_tsmon: true",
    ]);
  });

  it("splits the OS host name as ts-mon's getFQDN, and finds a Chrome-infra bot's network", () => {
    expect(labels({}, NO_CONFIG, "Bot-7.Zone1.example.com")).toContain("host_name: bot-7");
    expect(labels({}, NO_CONFIG, "Bot-7.Zone1.example.com")).toContain("data_center: zone1");
    expect(labels({}, NO_CONFIG, "host.")).toContain("data_center: ");
    expect(labels({ targetType: "device" }, NO_CONFIG, "vm123-m4")).toContain("hostgroup: 4");
    expect(labels({ targetType: "device" }, NO_CONFIG, "master7a.golo")).toContain("hostgroup: 7");
    expect(labels({ targetType: "device" }, NO_CONFIG, "build1")).toContain("hostgroup: ");
  });

  it("refuses a task target without a service or job name, in Go's words", () => {
    expect(tsMonRootLabels({ ...FLAGS, taskJobName: "" }, NO_CONFIG, "vm")).toEqual({
      error: "--ts-mon-task-job-name must be provided when using --ts-mon-target-type=task",
    });
  });
});
