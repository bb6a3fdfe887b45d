import { once } from "node:events";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { TunnelAgent } from "./tunnel-agent.js";

/**
 * An HTTPS agent that reaches servers through a SOCKS5 proxy, as Go's client does for a
 * `socks5://` or `socks5h://` HTTPS_PROXY: the server's name is sent to the proxy to resolve (Go
 * never resolves it itself, whichever of the two schemes), with the URL's user and password for
 * the proxy's username/password authentication.
 *
 * The SOCKS protocol is the `socks` package's, loaded on first use: it takes 25-50 ms to load,
 * which a run without a SOCKS proxy should not pay (`socks-proxy-agent`, its usual wrapper,
 * imports it eagerly, and wrapping that agent lazily would take more code than this file).
 */
export class Socks5ProxyAgent extends TunnelAgent {
  protected override async openTunnel(host: string, port: number, signal: AbortSignal): Promise<Duplex> {
    const { SocksClient } = await loadSocks();
    signal.throwIfAborted();
    // The TCP connection is ours, so an abort can destroy it at any step of the handshake.
    const address = this.proxyAddress(1080);
    const tcp = connect(address);
    const abort = () => tcp.destroy(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    try {
      await once(tcp, "connect");
      const { socket } = await SocksClient.createConnection({
        command: "connect",
        destination: { host, port },
        existing_socket: tcp,
        proxy: {
          ...address,
          type: 5,
          ...(this.proxy.username !== "" && {
            userId: decodeURIComponent(this.proxy.username),
            password: decodeURIComponent(this.proxy.password),
          }),
        },
      });
      return socket;
    } catch (err) {
      tcp.destroy();
      throw signal.aborted ? signal.reason : err;
    } finally {
      signal.removeEventListener("abort", abort);
    }
  }
}

/** The `socks` package: Node names a CommonJS module's exports; a split esbuild bundle gives them as `default`. */
async function loadSocks(): Promise<typeof import("socks")> {
  const loaded = await import("socks");
  return "SocksClient" in loaded ? loaded : (loaded as unknown as { default: typeof loaded }).default;
}
