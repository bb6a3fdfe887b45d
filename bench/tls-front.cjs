// A TLS front for the bench's dev server, in its own process (the bench's spawnSync would block
// a server in the bench's own event loop): `node tls-front.cjs KEY CERT HOST TARGET_PORT` listens
// on HOST (port 0), prints `listening on HOST:PORT`, and pipes each connection to 127.0.0.1:TARGET_PORT.
const { readFileSync } = require("node:fs");
const { connect } = require("node:net");
const { createServer } = require("node:tls");

const [key, cert, host, targetPort] = process.argv.slice(2);
const server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (socket) => {
  const upstream = connect(Number(targetPort), "127.0.0.1");
  socket.pipe(upstream).pipe(socket);
  socket.on("error", () => upstream.destroy());
  upstream.on("error", () => socket.destroy());
});
server.on("tlsClientError", () => {});
server.listen(0, host, () => console.log(`listening on ${host}:${server.address().port}`));
process.on("SIGTERM", () => process.exit(0));
