import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../testing/until.js";
import { HttpHeaders } from "./http-headers.js";
import { createHttp1Client } from "./http1-client.js";

let server: Server;
let base = "";
const sockets = new Set<Socket>();
let stalled: ServerResponse | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/stall") {
        res.writeHead(200, { "X-Test": "a" });
        res.write("partial");
        stalled = res; // never ends
        return;
      }
      res.writeHead(201, { "Set-Cookie": ["a=1", "b=2"], "X-Echo": String(req.headers["x-in"] ?? "") });
      res.end(`${req.method} ${Buffer.concat(chunks).toString()}`);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  let out = "";
  for await (const chunk of body) out += Buffer.from(chunk).toString();
  return out;
}

describe("createHttp1Client", () => {
  it("sends the method, headers and body, and hands on the status, headers (cookies apart) and body", async () => {
    const res = await createHttp1Client()({
      url: `${base}/echo`,
      method: "POST",
      header: new HttpHeaders({ "X-In": "hello" }),
      signal: new AbortController().signal,
      body: (async function* () {
        yield Buffer.from("one ");
        yield Buffer.from("two");
      })(),
    });
    expect(res.status).toBe(201);
    expect(res.header.get("x-echo")).toBe("hello");
    expect(res.header.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await text(res.body)).toBe("POST one two");
  });

  it("ends a response being read when the call's signal aborts, with its reason, and drops the connection", async () => {
    const controller = new AbortController();
    const res = await createHttp1Client()({
      url: `${base}/stall`,
      method: "GET",
      header: new HttpHeaders(),
      signal: controller.signal,
    });
    expect(res.header.get("x-test")).toBe("a");
    const reading = text(res.body);
    await until(() => stalled !== undefined, 5000);
    controller.abort(new Error("deadline"));
    await expect(reading).rejects.toThrow("deadline");
    await until(() => sockets.size === 0, 5000);
  });

  it("reports Node's errors as connect-node does: a refused connection is Unavailable, the error its cause", async () => {
    const err = await createHttp1Client()({
      url: "http://127.0.0.1:9/x",
      method: "POST",
      header: new HttpHeaders(),
      signal: new AbortController().signal,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 14, rawMessage: expect.stringContaining("ECONNREFUSED") }); // Unavailable
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });
});
