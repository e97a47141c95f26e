// Graceful HTTP shutdown with keep-alive clients: stop accepting, let every request already
// received finish, close each connection as soon as it has nothing in flight, and cut what is
// left when the deadline passes.
//
// Written on Node's own server API (close, closeIdleConnections, closeAllConnections) instead of
// Apollo's drainHttpServer plugin, because that plugin ends a keep-alive socket right after a
// response that told the client to keep using it: a client that sends its next request at that
// moment loses it. Here every response finished while draining says `Connection: close`, so the
// client opens a new connection (refused: it goes to another instance) instead; and the caller
// learns whether the deadline cut anything, which the plugin does not report.
import type { Server, ServerResponse } from 'node:http';

export interface DrainResult {
  /** True when the deadline passed with requests still in flight, and their connections were cut. */
  readonly forced: boolean;
  /** How many requests were cut. */
  readonly cut: number;
}

export interface HttpDrain {
  /** True from startDraining() (or drain()) on: readiness answers 503, responses say Connection: close. */
  readonly draining: boolean;
  /** Marks the server as draining without closing anything yet (the shutdown delay). */
  startDraining(): void;
  /** Stops accepting, waits for in-flight requests up to deadlineMs, then closes every connection. */
  drain(deadlineMs: number): Promise<DrainResult>;
}

/** Must be called before the app's own 'request' listener is added, so it sees every request first. */
export function trackHttpServer(server: Server): HttpDrain {
  const active = new Set<ServerResponse>();
  let draining = false;

  const closeAfterResponse = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  };

  server.on('request', (_req, res: ServerResponse) => {
    active.add(res);
    if (draining) closeAfterResponse(res);
    res.once('close', () => {
      active.delete(res);
      // A response whose headers went out before draining began said keep-alive: close its now idle socket.
      if (draining) server.closeIdleConnections();
    });
  });

  const startDraining = () => {
    draining = true;
    for (const res of active) closeAfterResponse(res);
  };

  return {
    get draining() {
      return draining;
    },
    startDraining,
    async drain(deadlineMs) {
      startDraining();
      if (!server.listening) return { forced: false, cut: 0 };
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections with no request in flight: nothing is lost by closing them now.
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'deadline'>((resolve) => {
        timer = setTimeout(() => resolve('deadline'), deadlineMs);
      });
      const outcome = await Promise.race([closed.then(() => 'closed' as const), deadline]);
      clearTimeout(timer);
      if (outcome === 'closed') return { forced: false, cut: 0 };
      const cut = active.size;
      server.closeAllConnections();
      await closed;
      return { forced: true, cut };
    },
  };
}
