import { describe, expect, it } from "vitest";
import { cliOptionsFromFlags } from "./cli-options.js";
import { parseGoFlags } from "./go-flags.js";
import { resolveTokendOptions, TOKEND_DEFAULTS } from "./tokend-options.js";

const REQUIRED = { pkeyPem: "k", certPem: "c", backend: "b:1", tokenFile: "t" };
const PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";

describe("resolveTokendOptions", () => {
  it("fills in Go's defaults, the same as the flag table's", () => {
    const resolved = resolveTokendOptions(REQUIRED);
    expect(resolved).toEqual({ ...REQUIRED, ...TOKEND_DEFAULTS });
    const parsed = parseGoFlags(["-pkey-pem", "k", "-cert-pem", "c", "-backend", "b:1", "-token-file", "t"]);
    if (parsed.kind !== "values") throw new Error(JSON.stringify(parsed));
    const fromFlags = cliOptionsFromFlags(parsed.values);
    if ("error" in fromFlags) throw new Error(fromFlags.error);
    expect(fromFlags.options).toMatchObject(resolved);
  });

  it("keeps what is given, a timeout of 0 or less too (the deadline has passed, as in Go)", () => {
    const given = { ...REQUIRED, timeoutMs: -1000, protocol: "grpc", tokenFileMode: 0o600 } as const;
    expect(resolveTokendOptions(given)).toMatchObject(given);
  });

  it("does not share the default list of copies between runs", () => {
    resolveTokendOptions(REQUIRED).tokenFileCopies.push("x");
    expect(resolveTokendOptions(REQUIRED).tokenFileCopies).toEqual([]);
  });

  it.each([
    [{ pkeyPem: "" }, "runTokend: pkeyPem is required"],
    [{ tokenFile: undefined }, "runTokend: tokenFile is required"],
    [{ backend: "https://host" }, /-backend/],
    [{ protocol: "http" }, 'runTokend: protocol "http" is not one of prpc, connect, grpc, grpc-web'],
    [{ tokenFileMode: 0o10000 }, "runTokend: tokenFileMode 4096 is not a file mode"],
    [{ timeoutMs: Number.NaN }, "runTokend: timeoutMs is not a number of milliseconds"],
    // A key's text where its path belongs: named, never shown.
    [{ pkeyPem: PEM_KEY }, "runTokend: pkeyPem is PEM text (a private key), not a file path (not shown)"],
    [{ caBundle: PEM_KEY }, "runTokend: caBundle is PEM text (a private key), not a file path (not shown)"],
    [
      { tokenFileCopies: ["copy.json", PEM_KEY] },
      "runTokend: tokenFileCopies holds PEM text (a private key), not a file path (not shown)",
    ],
  ])("refuses %j", (bad, message) => {
    expect(() => resolveTokendOptions({ ...REQUIRED, ...(bad as object) })).toThrow(message);
  });
});
