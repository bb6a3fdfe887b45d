/** One line of `check`: what was checked, how it went, and what to do about it. */
export interface CheckResult {
  name: string;
  /** INFO: a fact only the token server can judge. */
  status: "PASS" | "INFO" | "WARN" | "FAIL";
  detail: string;
  /** The fix, printed after a WARN or FAIL. */
  hint?: string;
}
