import { describe, expect, it } from "vitest";
import { mintMachineToken } from "./mint.js";

describe("mintMachineToken", () => {
  it("reproduces LUCI's golden machine token (reference §2.11 C) byte for byte", async () => {
    const minted = await mintMachineToken(
      {
        fqdn: "host.domain",
        issuedBy: "token-server@example.com",
        now: new Date(1422936306_000 + 999), // sub-second part is dropped
        lifetimeSeconds: 3600,
        caId: 0n,
        serial: 12345n,
      },
      {
        keyId: "key_id",
        certificatePem: "",
        keyPem: "",
        sign: async () => new TextEncoder().encode("signature"),
      },
    );
    expect(minted.token).toBe(
      "CjQKC2hvc3QuZG9tYWluEhh0b2tlbi1zZXJ2ZXJAZXhhbXBsZS5jb20Y8pHBpgUgkBw6AjA5EgZrZXlfaWQaCXNpZ25hdHVyZQ",
    );
    expect(minted.issuedAt).toBe(1422936306n);
    expect(minted.expiry.getTime()).toBe(1422939906_000);
  });
});
