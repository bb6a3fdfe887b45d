import { describe, expect, it } from "vitest";
import { TokenRefresherError } from "./token-refresher-error.js";

describe("TokenRefresherError", () => {
  it("has a name, a code and a cause, and from() wraps anything else once", () => {
    const cause = new Error("rpc error: code = Unavailable desc = down");
    const wrapped = TokenRefresherError.from(cause);
    expect(wrapped).toBeInstanceOf(TokenRefresherError);
    expect(wrapped).toMatchObject({
      name: "TokenRefresherError",
      code: "refresh-failed",
      message: "no valid machine token: rpc error: code = Unavailable desc = down",
      cause,
    });
    expect(TokenRefresherError.from(wrapped)).toBe(wrapped);
    expect(TokenRefresherError.from("stopped", "stopped")).toMatchObject({
      code: "stopped",
      message: "no valid machine token: stopped",
      cause: "stopped",
    });
  });
});
