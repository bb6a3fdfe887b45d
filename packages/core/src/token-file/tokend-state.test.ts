import { describe, expect, it } from "vitest";
import { EXAMPLE_STATE_B64, REFERENCE_DIGEST } from "../testing/vectors.js";
import { decodeTokendState, encodeTokendState, TOKEND_VERSION } from "./tokend-state.js";

const enc = new TextEncoder();
const dec = (text: string) => decodeTokendState(enc.encode(text));

describe("encodeTokendState", () => {
  it("writes Go's compact JSON with InputsDigest then Version", () => {
    const bytes = encodeTokendState({ inputsDigest: REFERENCE_DIGEST, version: TOKEND_VERSION });
    expect(new TextDecoder().decode(bytes)).toBe(`{"InputsDigest":"${REFERENCE_DIGEST}","Version":"1.3"}`);
    expect(bytes.length).toBe(75);
    expect(Buffer.from(bytes).toString("base64")).toBe(EXAMPLE_STATE_B64);
  });

  it("keeps another version as given", () => {
    const text = new TextDecoder().decode(encodeTokendState({ inputsDigest: "ab", version: "1.2" }));
    expect(text).toBe('{"InputsDigest":"ab","Version":"1.2"}');
  });
});

describe("decodeTokendState", () => {
  it("round-trips", () => {
    const state = { inputsDigest: REFERENCE_DIGEST, version: "1.3" };
    expect(decodeTokendState(encodeTokendState(state))).toEqual({ state });
  });

  it("matches keys case-insensitively, like Go's encoding/json", () => {
    expect(dec('{"inputsdigest":"d","VERSION":"v"}')).toEqual({ state: { inputsDigest: "d", version: "v" } });
    expect(dec('{"iNpUtSdIgEsT":"d"}')).toEqual({ state: { inputsDigest: "d", version: "" } });
  });

  it("ignores unknown keys and null values", () => {
    expect(dec('{"InputsDigest":"d","Version":"v","Extra":[1,{"x":2}],"N":3}')).toEqual({
      state: { inputsDigest: "d", version: "v" },
    });
    expect(dec('{"InputsDigest":null,"Version":"v"}')).toEqual({ state: { inputsDigest: "", version: "v" } });
  });

  it("treats an empty object as an empty state (→ PARAMS_CHANGE later)", () => {
    expect(dec("{}")).toEqual({ state: { inputsDigest: "", version: "" } });
  });

  it.each([
    ["empty bytes", ""],
    ["bad JSON", "{"],
    ["trailing garbage", '{"InputsDigest":"d"} x'],
    ["a number digest", '{"InputsDigest":5}'],
    ["a bool version", '{"Version":true}'],
    ["an array", "[]"],
    ["a string", '"x"'],
    ["a number", "1"],
  ])("fails for %s", (_name, text) => {
    const result = dec(text);
    expect(result.state).toBeUndefined();
    expect(result.error).toEqual(expect.any(String));
    expect(result.error).not.toBe("");
  });

  it("says `unexpected end of JSON input` for empty bytes, as Go", () => {
    expect(dec("").error).toBe("unexpected end of JSON input");
  });

  it("reports bad JSON as one escaped line (the parser quotes the text)", () => {
    const error = dec('{"x\u001b[2J\nsecret').error ?? "";
    expect(error).toMatch(/^[\x20-\x7e]+$/);
    expect(error).not.toContain("\u001b");
  });

  it("fails for bytes that are not UTF-8", () => {
    expect(decodeTokendState(new Uint8Array([0x7b, 0xff, 0x7d])).error).toEqual(expect.any(String));
  });
});
