/**
 * How this project's own packages reach HTTPS services other than the token server (the CLI's
 * ts-mon OAuth calls): Go's trust roots (as a list, or as a TrustStore that hands OpenSSL only the
 * roots a server needs), its proxy rules from the environment, and the agents that go through
 * those proxies.
 *
 * Private: it does not follow semantic versioning and may change in any release. Its own entry so
 * that the CLI loads it only where it is used (never on the token-is-good path).
 *
 * @module @luci-machine-tokend/core/net
 */

export { createProxyAgent } from "./proxy-agent.js";
export { isLoopback, proxyForUrl } from "./proxy-from-env.js";
export { loadTrustRoots, type TrustRoots } from "./trust-roots.js";
export { type TlsTarget, TrustStore } from "./trust-store.js";
