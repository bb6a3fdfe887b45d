import { ErrorCode } from "@luci-machine-tokend/core/gen";
import { describe, expect, it } from "vitest";
import { formatLogLine } from "./log-line.js";
import { quote } from "./quote.js";
import type { RecordedRequest } from "./request-log.js";

const base: Omit<RecordedRequest, "outcome"> = {
  protocol: "prpc",
  format: "binary",
  httpVersion: "1.1",
  receivedAt: new Date("2026-01-02T03:04:05.678Z"),
  latencyMs: 0,
};

describe("formatLogLine", () => {
  it("says why a certificate was not trusted, beside the generic answer the client got", () => {
    const line = formatLogLine({
      ...base,
      outcome: {
        kind: "error-code",
        errorCode: ErrorCode.UNTRUSTED_CERTIFICATE,
        errorMessage: "invalid or untrusted certificate",
        detail: "certificate has expired",
      },
    });
    expect(line).toBe(
      '2026-01-02T03:04:05.678Z prpc/binary HTTP/1.1 error_code=UNTRUSTED_CERTIFICATE message="invalid or untrusted certificate" reason="certificate has expired"',
    );
  });

  it("keeps client text on one printable-ASCII line: controls, DEL, C1, U+2028, bidi, quotes escaped", () => {
    const hostile = 'Evil\r\nCA\u001b[31m\u007f\u0085\u2028\u202e" \\';
    const line = formatLogLine({
      ...base,
      protocol: "grpc",
      format: undefined,
      httpVersion: "2.0",
      latencyMs: 12.4,
      httpFault: { kind: "reset" },
      outcome: { kind: "grpc-error", code: 3, message: `could not decode: ${hostile}` },
    });
    expect(line).toMatch(/^[\x20-\x7e]+$/);
    expect(line).toBe(
      '2026-01-02T03:04:05.678Z grpc HTTP/2.0 grpc_code=3 (InvalidArgument) message="could not decode: Evil\\r\\nCA\\u001b[31m\\u007f\\u0085\\u2028\\u202e\\" \\\\" latency=12ms fault=reset',
    );
    expect(JSON.parse(quote(hostile))).toBe(hostile);
  });

  it("names tokens, proxy pages, refused requests and clients that left", () => {
    const token = formatLogLine({
      ...base,
      outcome: {
        kind: "token",
        machineToken: "secret",
        expiry: new Date(0),
        fqdn: "bot-1.example.com",
        caId: 3n,
        lifetimeSeconds: 3600,
      },
    });
    expect(token).toMatch(/ token fqdn="bot-1.example.com" ca_id=3 lifetime=3600s$/);
    expect(token).not.toContain("secret"); // never the token itself
    expect(formatLogLine({ ...base, outcome: { kind: "proxy-html", status: 502 } })).toMatch(
      / proxy_page status=502$/,
    );
    expect(formatLogLine({ ...base, outcome: { kind: "protocol-error", httpStatus: 415 } })).toMatch(
      / refused http_status=415$/,
    );
    expect(formatLogLine({ ...base, outcome: { kind: "client-gone" } })).toMatch(/ client_gone$/);
  });
});
