import type { DevServerOptions } from "../options.js";
import { type FakeGceMetadata, startFakeGceMetadata } from "./fake-gce-metadata.js";
import { type FakeIamCredentials, startFakeIamCredentials } from "./fake-iam-credentials.js";
import { type FakeOAuthServer, startFakeOAuthServer } from "./fake-oauth-server.js";

/** The Google stand-ins a dev server runs beside the token server. */
export interface GoogleFakes {
  oauth?: FakeOAuthServer;
  gceMetadata?: FakeGceMetadata;
  iamCredentials?: FakeIamCredentials;
  /** Closes those started. */
  close(): Promise<void>;
}

/** Starts the fakes `options` ask for, on `host`; none started is left open on failure. */
export async function startGoogleFakes(
  options: Pick<DevServerOptions, "googleOAuth" | "gceMetadata" | "iamCredentials">,
  host: string,
): Promise<GoogleFakes> {
  const fakes: GoogleFakes = {
    async close() {
      await Promise.all([fakes.oauth?.close(), fakes.gceMetadata?.close(), fakes.iamCredentials?.close()]);
    },
  };
  try {
    if (options.googleOAuth) fakes.oauth = await startFakeOAuthServer({ ...options.googleOAuth, host });
    if (options.gceMetadata) fakes.gceMetadata = await startFakeGceMetadata({ ...options.gceMetadata, host });
    if (options.iamCredentials) {
      const oauth = fakes.oauth;
      fakes.iamCredentials = await startFakeIamCredentials({
        // Base tokens are the OAuth fake's (or the GCE fake's) unless the caller says otherwise.
        acceptBaseToken: (t) =>
          oauth?.issued(t) || fakes.gceMetadata?.issued(t) || (!oauth && !fakes.gceMetadata && t !== ""),
        ...options.iamCredentials,
        host,
      });
    }
  } catch (err) {
    await fakes.close();
    throw err;
  }
  return fakes;
}
