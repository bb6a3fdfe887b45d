import { describe, expect, it } from "vitest";
import { certificatesReply } from "./certificates.js";

const source = {
  appId: "dev-token-server",
  serviceAccount: "signer<a&b>@example.com",
  keyId: "abc123",
  certificatePem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
};

describe("certificatesReply (LUCI's /auth/api/v1/server/certificates)", () => {
  it("sends timestamp as a bare JSON integer of microseconds, as Go's JSONTime reads it", () => {
    const reply = certificatesReply(source, new Date(1_700_000_000_123));
    const text = new TextDecoder().decode(reply.body);
    // Go's JSONTime.UnmarshalJSON is strconv.ParseInt on the raw token: a quoted value fails.
    expect(text).toMatch(/"timestamp":1700000000123000\}\n$/);
    expect(JSON.parse(text)).toEqual({
      app_id: "dev-token-server",
      service_account_name: "signer<a&b>@example.com",
      certificates: [{ key_name: "abc123", x509_certificate_pem: source.certificatePem }],
      timestamp: 1_700_000_000_123_000,
    });
  });

  it("is application/json like LUCI's handler, with Go's HTML escaping and omitempty", () => {
    const reply = certificatesReply({ ...source, appId: "" }, new Date(0));
    expect(reply.headers["Content-Type"]).toBe("application/json");
    const text = new TextDecoder().decode(reply.body);
    expect(text).toContain('"service_account_name":"signer\\u003ca\\u0026b\\u003e@example.com"');
    expect(text).not.toContain("app_id");
  });
});
