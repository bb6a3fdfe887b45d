import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { errorMessage } from "../common/fs-errors.js";
import { TokenMinter } from "../gen/tokenserver/minter/token_minter_pb.js";
import { type SigningCertificates, verifyMachineToken } from "../machine-token/verify-machine-token.js";

/** What the stand-in service saw: one entry per request that reached it. */
export interface ServiceCall {
  path: string;
  /** `bot:<fqdn>` when the X-Luci-Machine-Token header verified. */
  identity?: string;
  /** Why the request was refused. */
  refused?: string;
}

/** A running stand-in LUCI service. */
export interface LuciService {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  calls: ServiceCall[];
  close(): Promise<void>;
}

/**
 * A small LUCI service that authenticates callers as LUCI services do: it verifies the
 * X-Luci-Machine-Token header with verifyMachineToken against the token server's published
 * signing certificates (fetched from `certificatesUrl`). It answers `GET /whoami` with the
 * caller's identity, and a Connect RPC with it too (it reuses the TokenMinter descriptor, the one
 * service this repository has; the identity comes back as `service_version`).
 */
export async function startLuciService(
  certificatesUrl: string,
  now = () => new Date(),
): Promise<LuciService> {
  const certificates = (await (await fetch(certificatesUrl)).json()) as SigningCertificates;
  const calls: ServiceCall[] = [];
  const authenticate = async (path: string, header: string | null): Promise<string> => {
    const call: ServiceCall = { path };
    calls.push(call);
    try {
      if (header === null) throw new Error("no X-Luci-Machine-Token header");
      const { body } = await verifyMachineToken(header, { certificates, now: now() });
      call.identity = `bot:${body.machineFqdn}`;
      return call.identity;
    } catch (err) {
      call.refused = errorMessage(err);
      throw err;
    }
  };
  const whoami = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const raw = req.headers["x-luci-machine-token"];
      res.writeHead(200).end(await authenticate(req.url ?? "", typeof raw === "string" ? raw : null));
    } catch (err) {
      res.writeHead(401).end(errorMessage(err));
    }
  };
  const adapter = connectNodeAdapter({
    routes: (router) =>
      router.service(TokenMinter, {
        async mintMachineToken(_req, ctx) {
          try {
            return {
              serviceVersion: await authenticate("rpc", ctx.requestHeader.get("X-Luci-Machine-Token")),
            };
          } catch (err) {
            throw new ConnectError(String(err), Code.Unauthenticated);
          }
        },
      }),
    fallback: (req, res) => void whoami(req as IncomingMessage, res as ServerResponse),
  });
  const server = createServer(adapter);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
