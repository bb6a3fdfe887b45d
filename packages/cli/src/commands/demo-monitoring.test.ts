import { readFile, stat } from "node:fs/promises";
import { create } from "@bufbuild/protobuf";
import { MetricsPayloadSchema } from "@luci-machine-tokend/core/ts-mon";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir } from "../../../core/src/testing/temp-dir.js";
import {
  DEMO_SERVICE_ACCOUNT,
  demoMonitoring,
  receivedMetricLines,
  writeDemoKey,
} from "./demo-monitoring.js";

describe("the demo's monitoring files", () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  beforeEach(async () => {
    tmp = await makeTempDir();
  });
  afterEach(() => tmp.remove());

  it("are made once (secrets 0600, HOME 0700) and reused; the key names each run's token endpoint", async () => {
    const first = await demoMonitoring(tmp.dir);
    await writeDemoKey(first, "https://127.0.0.1:1111/token");
    const key = JSON.parse(await readFile(first.keyFile, "utf8"));
    expect(key).toMatchObject({
      client_email: DEMO_SERVICE_ACCOUNT,
      token_uri: "https://127.0.0.1:1111/token",
    });
    for (const secret of [first.keyFile, tmp.path("tls-key.pem")])
      expect([secret, (await stat(secret)).mode & 0o777]).toEqual([secret, 0o600]);
    expect((await stat(first.home)).mode & 0o777).toBe(0o700);
    const ca = await readFile(first.caFile, "utf8");

    const second = await demoMonitoring(tmp.dir);
    expect(await readFile(second.caFile, "utf8")).toBe(ca);
    expect(second.serverOptions.prodx.tls).toEqual(first.serverOptions.prodx.tls);
    await writeDemoKey(second, "https://127.0.0.1:2222/token");
    // The same key (so the OAuth token cached for it stays good), at the new endpoint.
    expect(JSON.parse(await readFile(second.keyFile, "utf8"))).toEqual({
      ...key,
      token_uri: "https://127.0.0.1:2222/token",
    });
  });

  it("prints what ProdX received one escaped line per metric", () => {
    const payload = create(MetricsPayloadSchema, {
      metricsCollection: [
        {
          metricsDataSet: [
            {
              metricName: "/chrome/infra/luci/machine_tokend/update_outcome",
              data: [{ value: { case: "stringValue", value: "UPDATE_SUCCESS\n\u001b[31mfake line" } }],
            },
            {
              metricName: "/chrome/infra/luci/machine_tokend/duration_rpc_us",
              annotations: { unit: "us", timestamp: true },
              data: [{ value: { case: "int64Value", value: 1234n } }],
            },
            {
              metricName: "/chrome/infra/presence/up",
              data: [{ value: { case: "boolValue", value: true } }],
            },
          ],
        },
      ],
    });
    expect(
      receivedMetricLines({
        payload,
        authorization: undefined,
        grpcTimeout: undefined,
        userAgent: undefined,
      }),
    ).toEqual([
      '/chrome/infra/luci/machine_tokend/update_outcome "UPDATE_SUCCESS\\n\\u001b[31mfake line"',
      "/chrome/infra/luci/machine_tokend/duration_rpc_us 1234 us",
      "/chrome/infra/presence/up true",
    ]);
  });
});
