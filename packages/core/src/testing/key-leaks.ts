/** Shortest run of the key's base64 that counts as a leak (12 bytes of key material). */
const MIN_RUN = 16;

/**
 * What in `text` gives away the private key `keyPem`: a private key's PEM armor
 * (`-----BEGIN … PRIVATE KEY-----`, or its end line), or a run of 16 or more base64 characters
 * found in the key's body (its lines joined, so a run across a line break of the PEM counts
 * too). Empty when nothing does. Runs are reported cut short, not whole. (A PEM type named in a
 * message, as Go's `got "RSA PRIVATE KEY"`, is not the key.)
 */
export function keyLeaks(text: string, keyPem: string): string[] {
  const body = keyPem
    .split(/\r?\n/)
    .filter((line) => line !== "" && !line.startsWith("-----") && !line.includes(":"))
    .join("");
  const leaks: string[] = [];
  for (const armor of text.match(/-----(BEGIN|END) [A-Z0-9 ]*PRIVATE KEY-----/g) ?? []) leaks.push(armor);
  // Escaped newlines (`\n` in JSON or a log line) join the PEM's lines as the body does.
  const joined = text.replace(/\\n|\\r|\s/g, "");
  for (const run of joined.match(/[A-Za-z0-9+/]{16,}/g) ?? []) {
    for (let i = 0; i + MIN_RUN <= run.length; i++) {
      if (body.includes(run.slice(i, i + MIN_RUN))) {
        leaks.push(`${run.slice(i, i + 8)}...`);
        break;
      }
    }
  }
  return leaks;
}
