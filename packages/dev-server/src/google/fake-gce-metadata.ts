import { randomBytes } from "node:crypto";
import {
  type FakeAnswer,
  type FakeListenOptions,
  type RunningFake,
  startFakeGoogleServer,
} from "./fake-google-server.js";

/** Options of {@link startFakeGceMetadata}. */
export interface FakeGceMetadataOptions extends Omit<FakeListenOptions, "tls"> {
  /** The default account's email. Default `vm@fake-project.iam.gserviceaccount.com`. */
  email?: string;
  /** The default account's scopes. Default cloud-platform and userinfo.email, as a usual VM's. */
  scopes?: string[];
  /** `expires_in` of its tokens, seconds. Default 3599. */
  lifetimeSeconds?: number;
  /** The clock. Default the real time. */
  now?: () => number;
}

/** A running fake GCE metadata server: point GCE_METADATA_HOST at `hostPort`. */
export interface FakeGceMetadata extends RunningFake {
  /** Tokens it gave, in order. */
  tokens: string[];
  /** Whether `token` is one it gave that has not expired. */
  issued(token: string): boolean;
  /** Answers every request with this while set (a fault); undefined: normal again. */
  setAnswer(answer: FakeAnswer | undefined): void;
}

/**
 * A stand-in for the GCE metadata server, for what luci-go's GCE token provider asks of it:
 * `/computeMetadata/v1/instance/service-accounts/default/{email,scopes,token}`. As the real one: a
 * request without `Metadata-Flavor: Google` gets 403, every answer carries `Metadata-Flavor:
 * Google`, scopes are one per line, an unknown path is 404.
 */
export async function startFakeGceMetadata(options: FakeGceMetadataOptions = {}): Promise<FakeGceMetadata> {
  const email = options.email ?? "vm@fake-project.iam.gserviceaccount.com";
  const scopes = options.scopes ?? [
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/userinfo.email",
  ];
  const now = options.now ?? Date.now;
  const lifetime = options.lifetimeSeconds ?? 3599;
  const tokens: string[] = [];
  const expiries = new Map<string, number>();
  let fault: FakeAnswer | undefined;
  const flavor = { "metadata-flavor": "Google" };
  const running = await startFakeGoogleServer({ ...options, tls: undefined }, (req, baseUrl) => {
    if (fault) return { ...fault, headers: { ...flavor, ...fault.headers } };
    if (req.headers["metadata-flavor"] !== "Google")
      return { status: 403, body: "Missing Metadata-Flavor:Google header.", headers: flavor };
    const base = "/computeMetadata/v1/instance/service-accounts/default/";
    const path = new URL(req.url, baseUrl).pathname;
    const text = (body: string): FakeAnswer => ({
      status: 200,
      body,
      contentType: "application/text",
      headers: flavor,
    });
    if (path === `${base}email`) return text(email);
    if (path === `${base}scopes`) return text(scopes.map((s) => `${s}\n`).join(""));
    if (path === `${base}token`) {
      const token = `ya29.gce-${randomBytes(12).toString("base64url")}`;
      tokens.push(token);
      expiries.set(token, now() + lifetime * 1000);
      return {
        status: 200,
        json: { access_token: token, expires_in: lifetime, token_type: "Bearer" },
        headers: flavor,
      };
    }
    return { status: 404, body: "not found", headers: flavor };
  });
  return {
    ...running,
    tokens,
    issued: (token) => (expiries.get(token) ?? 0) > now(),
    setAnswer: (a) => {
      fault = a;
    },
  };
}
