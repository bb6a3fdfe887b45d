import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { makeNamedCertificate } from "../testing/tls-fixtures.js";
import { certificateNames, machineFqdn } from "./machine-fqdn.js";

describe("machineFqdn (reference §7.3)", () => {
  it.each<[string, string, string[], string, string]>([
    [
      "a SAN that extends the CN",
      "fuchsia-sdk-0psd",
      ["fuchsia-sdk-0psd.c.fuchsia-infra.internal"],
      "fuchsia-sdk-0psd.c.fuchsia-infra.internal",
      "c.fuchsia-infra.internal",
    ],
    ["the CN equal to the SAN", "host.example.com", ["host.example.com"], "host.example.com", "example.com"],
    [
      "the first SAN that extends the CN",
      "name1",
      ["name2.example.com", "name1.example.com", "name1.other.com"],
      "name1.example.com",
      "example.com",
    ],
    ["the CN lowercased", "HOST.domain", [], "host.domain", "domain"],
    ["a SAN lowercased", "Bot-1", ["BOT-1.Example.COM"], "bot-1.example.com", "example.com"],
    ["the CN when no SAN extends it", "host.a.com", ["other.b.com", "host-x.b.com"], "host.a.com", "a.com"],
    ["the CN when a SAN only shares a prefix", "host", ["hostname.example.com"], "host", ""],
  ])("takes %s", (_name, cn, sans, fqdn, domain) => {
    const got = machineFqdn(cn, sans);
    if (domain === "") {
      expect(got).toEqual({ error: `not a valid FQDN ${JSON.stringify(fqdn)}` });
    } else {
      expect(got).toEqual({ fqdn, domain });
    }
  });

  it("needs a dot, reported in the server's words", () => {
    expect(machineFqdn("HostOnly", [])).toEqual({ error: 'not a valid FQDN "hostonly"' });
    expect(machineFqdn("host", ["other.example.com"])).toEqual({ error: 'not a valid FQDN "host"' });
  });

  it("needs a CN", () => {
    expect(machineFqdn("", ["host.example.com"])).toEqual({
      error: "unsupported cert, Subject CN field is required",
    });
  });

  it("takes the domain after the first dot", () => {
    expect(machineFqdn("a.b.c.d", [])).toEqual({ fqdn: "a.b.c.d", domain: "b.c.d" });
    expect(machineFqdn("trailing.", [])).toEqual({ fqdn: "trailing.", domain: "" });
  });
});

describe("certificateNames on real certificates", () => {
  const names = async (subject: string, sans: Parameters<typeof makeNamedCertificate>[1]) => {
    const cert = new X509Certificate(await makeNamedCertificate(subject, sans));
    return certificateNames(cert.subject, cert.subjectAltName);
  };

  it("reads the CN among several RDNs and only the DNS SANs", async () => {
    const got = await names("C=US, O=Example Org, OU=Bots, CN=Bot-1, L=Somewhere", [
      { type: "dns", value: "Bot-1.Example.com" },
      { type: "ip", value: "10.0.0.1" },
      { type: "ip", value: "2001:db8::1" },
      { type: "email", value: "bots@example.com" },
      { type: "dns", value: "bot-1.other.org" },
    ]);
    expect(got).toEqual({ commonName: "Bot-1", dnsNames: ["Bot-1.Example.com", "bot-1.other.org"] });
    expect(machineFqdn(got.commonName, got.dnsNames)).toEqual({
      fqdn: "bot-1.example.com",
      domain: "example.com",
    });
  });

  it("takes the last CN, as Go's pkix.Name does", async () => {
    expect((await names("O=Example, CN=first.example.com, CN=second.example.com", [])).commonName).toBe(
      "second.example.com",
    );
  });

  it("reads a CN inside a multi-valued RDN", async () => {
    expect(await names("CN=host.example.com+O=Example, L=Here", [])).toEqual({
      commonName: "host.example.com",
      dnsNames: [],
    });
  });

  it("gives an empty CN and no names when the certificate has neither", async () => {
    const got = await names("O=No Common Name", []);
    expect(got).toEqual({ commonName: "", dnsNames: [] });
    expect(machineFqdn(got.commonName, got.dnsNames)).toEqual({
      error: "unsupported cert, Subject CN field is required",
    });
  });

  it("does not take a CN-looking value from another attribute", async () => {
    expect((await names("O=CN=fake.example.com, CN=real.example.com", [])).commonName).toBe(
      "real.example.com",
    );
  });
});
