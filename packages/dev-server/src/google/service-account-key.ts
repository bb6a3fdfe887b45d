import { generateKeyPairSync, randomBytes } from "node:crypto";

/** A service account's JSON key, as Google Cloud issues them, and its public key. */
export interface TestServiceAccountKey {
  /** The key file's text (write it where `-ts-mon-credentials` points). */
  json: string;
  email: string;
  privateKeyId: string;
  /** SPKI PEM: give it to the fake OAuth server. */
  publicKeyPem: string;
}

/**
 * Makes a service-account key file in Google's layout (`type`, `project_id`, `private_key_id`,
 * PKCS#8 `private_key`, `client_email`, …, `token_uri`) with a new 2048-bit RSA key.
 */
export function createServiceAccountKey(options: {
  tokenUri: string;
  email?: string;
  privateKeyId?: string;
}): TestServiceAccountKey {
  const email = options.email ?? "tsmon@fake-project.iam.gserviceaccount.com";
  const privateKeyId = options.privateKeyId ?? randomBytes(20).toString("hex");
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const json = JSON.stringify(
    {
      type: "service_account",
      project_id: email.split("@")[1]?.split(".")[0] ?? "fake-project",
      private_key_id: privateKeyId,
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      client_email: email,
      client_id: "100000000000000000000",
      auth_uri: "https://accounts.google.com/o/oauth2/auth",
      token_uri: options.tokenUri,
      universe_domain: "googleapis.com",
    },
    null,
    2,
  );
  return {
    json,
    email,
    privateKeyId,
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}
