import { ConnectError } from "@connectrpc/connect";
import { errorMessage, formatGoDuration } from "@luci-machine-tokend/core/internal";
import {
  type BackendConnection,
  createBackendConnection,
  explainConnectionError,
  PRPC_BINARY_CONTENT_TYPE,
} from "@luci-machine-tokend/core/protocol-prpc";
import { backendSetupFix, connectionFix, NOT_PRPC_FIX } from "./check-fixes.js";
import type { CheckResult } from "./check-result.js";

const MAX_SKEW_MS = 10 * 60_000;

/**
 * The backend as a pRPC server and the clock against its Date header. Sends an empty
 * MintMachineToken request: a pRPC server refuses it (code 3) without minting.
 */
export async function checkBackend(
  backend: string,
  caBundle: string | undefined,
  now: () => Date,
): Promise<CheckResult[]> {
  const name = "backend";
  let connection: BackendConnection;
  try {
    // The same connection setup as a run: trust roots and the proxy from the environment.
    connection = createBackendConnection(backend, { caBundle });
  } catch (err) {
    return [{ name, status: "FAIL", detail: errorMessage(err), hint: backendSetupFix(err) }];
  }
  const { httpClient, proxy } = connection;
  const url = new URL(`${connection.baseUrl}/prpc/tokenserver.minter.TokenMinter/MintMachineToken`);
  const started = performance.now();
  let status: number;
  let header: Headers;
  try {
    const res = await httpClient({
      url: url.toString(),
      method: "POST",
      header: new Headers({ "Content-Type": PRPC_BINARY_CONTENT_TYPE, Accept: PRPC_BINARY_CONTENT_TYPE }),
      signal: AbortSignal.timeout(10_000),
      body: (async function* () {})(),
    });
    for await (const _ of res.body) {
      // drain
    }
    ({ status, header } = res);
  } catch (err) {
    const detail = `${url.host}: ${ConnectError.from(explainConnectionError(err, connection)).rawMessage}`;
    return [{ name, status: "FAIL", detail, hint: connectionFix(err, url.host, proxy?.host) }];
  }
  const ms = Math.round(performance.now() - started);
  const code = header.get("X-Prpc-Grpc-Code");
  const results: CheckResult[] = [
    code === null
      ? {
          name,
          status: "FAIL",
          detail: `${url.host} answered HTTP ${status} without pRPC headers (a proxy or the wrong server?)`,
          hint: NOT_PRPC_FIX,
        }
      : {
          name,
          status: "PASS",
          detail: `${url.host} is a pRPC server (answered code ${code} in ${ms} ms${proxy ? `, via ${proxy.host}` : ""})`,
        },
  ];
  results.push(checkClock(header.get("Date"), now()));
  return results;
}

function checkClock(date: string | null, now: Date): CheckResult {
  const name = "clock";
  if (date === null)
    return { name, status: "PASS", detail: "the server sent no Date header; skew not measured" };
  const skew = now.getTime() - Date.parse(date);
  const text = `this machine is ${formatGoDuration(Math.abs(Math.round(skew / 1000)) * 1000)} ${skew >= 0 ? "ahead of" : "behind"} the server`;
  const status = Math.abs(skew) >= MAX_SKEW_MS ? "FAIL" : Math.abs(skew) > 60_000 ? "WARN" : "PASS";
  return {
    name,
    status,
    detail: text,
    hint: "sync the clock (NTP): the server refuses requests over 10 minutes off",
  };
}
