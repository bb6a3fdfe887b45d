import type { Server } from "node:http";
import type { Socket } from "node:net";

interface Slot {
  /** When the connection last had nothing to do: opened, or its last answer sent. */
  idleSince: number;
  /** Requests being answered on it. */
  busy: number;
}

/**
 * Holds at most `max` connections of an HTTP server, so a flood cannot take the process's file
 * descriptors, without letting whoever holds them keep others out: a new connection closes the one
 * that has waited longest without a request being answered (a half-sent request, an idle
 * keep-alive), and is refused only when every connection is being answered. A probe sends its
 * request at once, so it is the newest, and served, however many connections another local user
 * trickles bytes into (loopback peers all have one address: a cap per address would not help).
 */
export function limitConnections(server: Server, max: number): void {
  const slots = new Map<Socket, Slot>();
  server.on("connection", (socket: Socket) => {
    if (slots.size >= max) {
      const victim = longestIdle(slots);
      if (victim === undefined) {
        socket.destroy();
        return;
      }
      slots.delete(victim);
      victim.destroy();
    }
    const slot: Slot = { idleSince: performance.now(), busy: 0 };
    slots.set(socket, slot);
    socket.once("close", () => slots.delete(socket));
  });
  server.on("request", (req, res) => {
    const slot = slots.get(req.socket);
    if (slot === undefined) return;
    slot.busy++;
    res.once("close", () => {
      slot.busy--;
      slot.idleSince = performance.now();
    });
  });
}

function longestIdle(slots: Map<Socket, Slot>): Socket | undefined {
  let found: Socket | undefined;
  let since = Number.POSITIVE_INFINITY;
  for (const [socket, slot] of slots) {
    if (slot.busy === 0 && slot.idleSince < since) {
      found = socket;
      since = slot.idleSince;
    }
  }
  return found;
}
