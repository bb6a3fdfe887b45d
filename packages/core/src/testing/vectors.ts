/** Byte vectors and examples from the LUCI reference (docs/LUCI-REFERENCE.md §2.11, §4.2, §4.4). */

/** §4.4: digest of backend `luci-token-server.appspot.com`, cert `CERT\n`, pkey `PKEY\n`. */
export const REFERENCE_DIGEST = "8afda6d50dd1c4b56cbcff473f1dfa11fc2c2f8e";

/** §2.11 C: the upstream golden machine token. */
export const GOLDEN_TOKEN =
  "CjQKC2hvc3QuZG9tYWluEhh0b2tlbi1zZXJ2ZXJAZXhhbXBsZS5jb20Y8pHBpgUgkBw6AjA5EgZrZXlfaWQaCXNpZ25hdHVyZQ";

/** §4.2: the `tokend_state` of the example token file. */
export const EXAMPLE_STATE_B64 =
  "eyJJbnB1dHNEaWdlc3QiOiI4YWZkYTZkNTBkZDFjNGI1NmNiY2ZmNDczZjFkZmExMWZjMmMyZjhlIiwiVmVyc2lvbiI6IjEuMyJ9";

/** §4.2: a token file as Go tokend writes it (one space after each colon). */
export const GO_TOKEN_FILE = [
  "{",
  `  "luci_machine_token": "${GOLDEN_TOKEN}",`,
  `  "expiry": "1422939906",`,
  `  "last_update": "1422936306",`,
  `  "next_update": "1422938106",`,
  `  "tokend_state": "${EXAMPLE_STATE_B64}"`,
  "}",
].join("\n");

/** The same file as a Go binary whose detrand picked two spaces after each colon writes it. */
export const GO_TOKEN_FILE_TWO_SPACES = GO_TOKEN_FILE.replace(/": /g, '":  ');

/** §2.11 D: a successful MintMachineTokenResponse (token-1, expiry 1422939906). */
export const RESPONSE_D_HEX =
  "1a2b1215756e69742d74657374732f6d6f636b65642d766572aa01110a07746f6b656e2d3112060882aec1a6052215756e69742d74657374732f6d6f636b65642d766572";

/** §2.11 E: a BAD_TIMESTAMP logic error with service version `unit-tests/mocked-ver`. */
export const RESPONSE_E_HEX =
  "080312446973737565645f61742074696d657374616d70206973206e6f742077697468696e2061636365707461626c652072616e67652c20636865636b20796f757220636c6f636b2215756e69742d74657374732f6d6f636b65642d766572";

/** Hex to bytes. */
export function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "hex"));
}
