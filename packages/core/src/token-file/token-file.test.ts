import { describe, expect, it } from "vitest";
import {
  GO_TOKEN_FILE,
  GO_TOKEN_FILE_TWO_SPACES,
  GOLDEN_TOKEN,
  REFERENCE_DIGEST,
} from "../testing/vectors.js";
import { makeTokenFile } from "./make-token-file.js";
import { encodeTokenFile, parseTokenFile } from "./token-file.js";

const enc = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const parse = (s: string) => parseTokenFile(enc.encode(s));
/** The parse result as a token (asserting it parsed), so its state fields can be read. */
function parsedToken(s: string) {
  const parsed = parse(s);
  if (parsed.error !== undefined) throw new Error(`expected a token, got: ${parsed.error}`);
  return parsed;
}
const exampleToken = () =>
  makeTokenFile({
    luciMachineToken: GOLDEN_TOKEN,
    expiry: 1422939906n,
    lastUpdate: 1422936306n,
    nextUpdate: 1422938106n,
  });
const exampleState = { inputsDigest: REFERENCE_DIGEST, version: "1.3" };

describe("encodeTokenFile", () => {
  it("reproduces the reference example (§4.2) byte for byte", () => {
    expect(text(encodeTokenFile(exampleToken(), exampleState))).toBe(GO_TOKEN_FILE);
  });

  it("has no trailing newline and int64 values as strings", () => {
    const out = text(encodeTokenFile(exampleToken(), exampleState));
    expect(out.endsWith("}")).toBe(true);
    expect(out).toContain('"expiry": "1422939906"');
  });

  it("omits zero fields and the state when there is none", () => {
    const token = makeTokenFile({ luciMachineToken: "t", expiry: 0n, lastUpdate: 5n, nextUpdate: 0n });
    expect(text(encodeTokenFile(token, undefined))).toBe(
      '{\n  "luci_machine_token": "t",\n  "last_update": "5"\n}',
    );
  });

  it("replaces a tokend_state already in the message with the given state", () => {
    const token = { ...exampleToken(), tokendState: enc.encode("stale") };
    expect(text(encodeTokenFile(token, exampleState))).toBe(GO_TOKEN_FILE);
    expect(text(encodeTokenFile(token, undefined))).not.toContain("tokend_state");
  });
});

describe("parseTokenFile", () => {
  it("reads the reference example with its state", () => {
    const parsed = parsedToken(GO_TOKEN_FILE);
    expect(parsed.error).toBeUndefined();
    expect(parsed.token?.luciMachineToken).toBe(GOLDEN_TOKEN);
    expect(parsed.token?.expiry).toBe(1422939906n);
    expect(parsed.token?.lastUpdate).toBe(1422936306n);
    expect(parsed.token?.nextUpdate).toBe(1422938106n);
    expect(parsed.state).toEqual(exampleState);
  });

  it("reads a file from a Go binary that writes two spaces after each colon", () => {
    expect(GO_TOKEN_FILE_TWO_SPACES).toContain('"expiry":  "1422939906"');
    const parsed = parsedToken(GO_TOKEN_FILE_TWO_SPACES);
    expect(parsed.token?.nextUpdate).toBe(1422938106n);
    expect(parsed.state).toEqual(exampleState);
  });

  it("round-trips what encodeTokenFile writes", () => {
    const parsed = parseTokenFile(encodeTokenFile(exampleToken(), exampleState));
    expect(parsed.token && text(encodeTokenFile(parsed.token, parsed.state))).toBe(GO_TOKEN_FILE);
  });

  it("accepts int64 as a string or as a number, and null as unset", () => {
    const parsed = parse(
      '{"luci_machine_token":"t","expiry":1422939906,"last_update":"7","next_update":null}',
    );
    expect(parsed.token?.expiry).toBe(1422939906n);
    expect(parsed.token?.lastUpdate).toBe(7n);
    expect(parsed.token?.nextUpdate).toBe(0n);
  });

  it("accepts int64 values beyond 2^53 exactly when quoted", () => {
    expect(parse('{"expiry":"9223372036854775807"}').token?.expiry).toBe(9223372036854775807n);
  });

  it("accepts the legacy fields Go's schema still has", () => {
    const parsed = parse('{"access_token":"a","token_type":"Bearer","service_account_email":"e@x"}');
    expect(parsed.token?.accessToken).toBe("a");
    expect(parsed.token?.serviceAccountEmail).toBe("e@x");
  });

  it("accepts url-safe and unpadded base64 in tokend_state", () => {
    const json = `{"InputsDigest":"${REFERENCE_DIGEST}","Version":"1.3"}??>`;
    const std = Buffer.from(json).toString("base64");
    expect(std).toMatch(/[+/]/);
    const urlSafe = Buffer.from(json).toString("base64url");
    for (const variant of [std, std.replace(/=+$/, ""), urlSafe, `${urlSafe}=`.slice(0, std.length)]) {
      const parsed = parse(`{"tokend_state":"${variant}"}`);
      expect(parsed.error).toBeUndefined();
      expect(Buffer.from(parsed.token?.tokendState ?? []).toString()).toBe(json);
    }
  });

  it("gives the token without a state when tokend_state is not state JSON", () => {
    const bad = Buffer.from("not json").toString("base64");
    const parsed = parsedToken(`{"luci_machine_token":"t","next_update":"5","tokend_state":"${bad}"}`);
    expect(parsed.token?.luciMachineToken).toBe("t");
    expect(parsed.state).toBeUndefined();
    expect(parsed.stateError).toEqual(expect.any(String));
  });

  it("gives the token without a state when tokend_state is absent", () => {
    const parsed = parsedToken('{"luci_machine_token":"t"}');
    expect(parsed.token?.luciMachineToken).toBe("t");
    expect(parsed.state).toBeUndefined();
    expect(parsed.stateError).toBe("unexpected end of JSON input");
  });

  it("never quotes the file in its errors (it may hold a token, or be another file behind a symlink)", () => {
    const secrets = [
      ['{\n  "luci_machine_token": "t",\n  "root_only_secret_key_name_x": 1\n}', "unknown field at line 3"],
      ['{"expiry": 31415926535897.5}', 'field "expiry": expecting an integer, got a number'],
      ['{"expiry": "31415926535897000000000"}', 'field "expiry": out of the int64 range'],
      ['{"root_only_secret": 1,\n"root_only_secret": 2}', "unknown field at line 1"],
      ['{"expiry": true}', 'field "expiry": expecting an integer, got a boolean'],
      ["root:$6$SECRET:19000:0:99999:7:::", "invalid JSON at line 1"],
    ];
    for (const [input, error] of secrets) {
      expect(parse(input ?? "").error).toBe(error);
      expect(parse(input ?? "").error).not.toMatch(/secret|31415|root/i);
    }
  });

  it.each([
    ["an unknown key", '{"luci_machine_token":"t","extra":1}', /^unknown field at line 1$/],
    ["a camelCase key", '{"luciMachineToken":"t"}', /unknown field/],
    ["a duplicate key", '{"expiry":"1","expiry":"2"}', /"expiry"/],
    ["a number token", '{"luci_machine_token":5}', /luci_machine_token/],
    ["a fractional int64", '{"expiry":1.5}', /expiry/],
    ["a non-numeric int64 string", '{"expiry":"12a"}', /expiry/],
    ["an out-of-range int64", '{"expiry":"9223372036854775808"}', /expiry/],
    ["a bool int64", '{"expiry":true}', /expiry/],
    ["bad base64", '{"tokend_state":"@@@"}', /tokend_state/],
    ["a number for bytes", '{"tokend_state":1}', /tokend_state/],
    ["an array", "[]", /.+/],
    ["a bare string", '"x"', /.+/],
    ["null", "null", /.+/],
    ["truncated JSON", '{"expiry":"1"', /.+/],
    ["empty bytes", "", /.+/],
    ["trailing garbage", '{"expiry":"1"} {}', /.+/],
  ])("fails for %s", (_name, input, message) => {
    const parsed = parse(input);
    expect(parsed.token).toBeUndefined();
    expect(parsed.error).toMatch(message);
    expect(parsed.error).not.toMatch(/\n/);
  });

  it("rejects a byte-order mark, as Go's protojson does", () => {
    const parsed = parseTokenFile(new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode(GO_TOKEN_FILE)]));
    expect(parsed.token).toBeUndefined();
    expect(parsed.error).toEqual(expect.any(String));
  });

  it("rejects bytes that are not UTF-8", () => {
    const bytes = enc.encode('{"luci_machine_token":"tX"}');
    bytes[24] = 0xff;
    const parsed = parseTokenFile(bytes);
    expect(parsed.token).toBeUndefined();
    expect(parsed.error).toBe("invalid UTF-8");
  });

  it("does not echo token text in JSON syntax errors", () => {
    const parsed = parse(`{"luci_machine_token":"${GOLDEN_TOKEN}" x}`);
    expect(parsed.error).toBeDefined();
    expect(parsed.error).not.toContain(GOLDEN_TOKEN.slice(0, 20));
  });
});
