// A TCP proxy for fault tests: the app talks to Redis through it, and the test injects network
// faults between the two and counts what the app sent. Written on node:net because the faults
// have to be switched mid-connection and the requests parsed (RESP), which no proxy package does
// both of; it is a test tool, not production code.
//
// Faults keep TCP's promise (bytes arrive in order or the connection breaks), as a real network
// does: a black hole holds bytes and delivers them when it heals, it never silently loses some
// and then forwards later ones, which no real client could survive.
import { createServer, Socket, type Server } from 'node:net';

export type ProxyFault =
  /** Forward everything at once. */
  | { readonly kind: 'none' }
  /** Delay every chunk, both ways, by `ms` (order kept). */
  | { readonly kind: 'latency'; readonly ms: number }
  /** Accept connections and requests but hold every byte, both ways, until the fault is cleared. */
  | { readonly kind: 'blackhole' }
  /** The next reply chunk is cut in half: its first half is delivered, then the connection is reset. */
  | { readonly kind: 'cut' }
  /** Every reply chunk is replaced by bytes that are not RESP (same length). */
  | { readonly kind: 'garbage' };

export interface ProxiedCommand {
  /** Lower-case command name: 'ping', 'evalsha', ... */
  readonly name: string;
  readonly args: readonly string[];
}

export interface TcpProxy {
  readonly port: number;
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  setFault(fault: ProxyFault): void;
  /** Every command clients sent since the last resetCounts(), forwarded or not. */
  commands(): readonly ProxiedCommand[];
  /** Bytes received from clients and bytes sent to them since the last resetCounts(). */
  bytes(): { readonly fromClients: number; readonly toClients: number };
  resetCounts(): void;
  /** Connections currently open from clients. */
  connections(): number;
  close(): Promise<void>;
}

/** One client connection and its upstream, with bytes held while the path is black-holed. */
interface Pair {
  readonly client: Socket;
  upstream: Socket | null;
  readonly heldUp: Buffer[];
  readonly heldDown: Buffer[];
  readonly parser: RespRequestParser;
}

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const host = target.host ?? '127.0.0.1';
  let fault: ProxyFault = { kind: 'none' };
  let commands: ProxiedCommand[] = [];
  let fromClients = 0;
  let toClients = 0;
  const pairs = new Set<Pair>();

  const connectUpstream = (pair: Pair) => {
    const upstream = new Socket();
    pair.upstream = upstream;
    upstream.on('data', (chunk) => toClient(pair, chunk));
    upstream.on('error', () => pair.client.destroy());
    upstream.on('close', () => pair.client.destroy());
    upstream.connect(target.port, host);
    for (const chunk of pair.heldUp.splice(0)) upstream.write(chunk);
  };

  const later = (ms: number, send: () => void) => (ms > 0 ? setTimeout(send, ms) : send());

  const toUpstream = (pair: Pair, chunk: Buffer) => {
    fromClients += chunk.length;
    for (const command of pair.parser.push(chunk)) commands.push(command);
    if (fault.kind === 'blackhole') return void pair.heldUp.push(chunk);
    if (!pair.upstream) connectUpstream(pair);
    later(fault.kind === 'latency' ? fault.ms : 0, () => pair.upstream?.write(chunk));
  };

  const toClient = (pair: Pair, chunk: Buffer) => {
    switch (fault.kind) {
      case 'blackhole':
        pair.heldDown.push(chunk);
        return;
      case 'cut': {
        const half = chunk.subarray(0, Math.max(1, chunk.length >> 1));
        toClients += half.length;
        // The client's 'close' handler then closes the upstream side too.
        pair.client.write(half, () => pair.client.resetAndDestroy());
        return;
      }
      case 'garbage':
        toClients += chunk.length;
        pair.client.write(Buffer.alloc(chunk.length, '?'));
        return;
      case 'latency':
      case 'none':
        later(fault.kind === 'latency' ? fault.ms : 0, () => {
          toClients += chunk.length;
          pair.client.write(chunk);
        });
        return;
      default: {
        const unreachable: never = fault;
        throw new Error(`unknown fault ${JSON.stringify(unreachable)}`);
      }
    }
  };

  const server: Server = createServer((client) => {
    const pair: Pair = { client, upstream: null, heldUp: [], heldDown: [], parser: new RespRequestParser() };
    pairs.add(pair);
    client.on('data', (chunk) => toUpstream(pair, chunk));
    client.on('error', () => {});
    client.on('close', () => {
      pairs.delete(pair);
      pair.upstream?.destroy();
    });
    if (fault.kind !== 'blackhole') connectUpstream(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    setFault(next) {
      fault = next;
      if (next.kind === 'blackhole') return;
      // Healed: deliver what was held, in order, as TCP would after retransmission.
      for (const pair of pairs) {
        if (!pair.upstream) connectUpstream(pair);
        else for (const chunk of pair.heldUp.splice(0)) pair.upstream.write(chunk);
        for (const chunk of pair.heldDown.splice(0)) toClient(pair, chunk);
      }
    },
    commands: () => commands,
    bytes: () => ({ fromClients, toClients }),
    resetCounts() {
      commands = [];
      fromClients = 0;
      toClients = 0;
    },
    connections: () => pairs.size,
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Splits a client's byte stream into commands. Clients such as ioredis send each command as a
 * RESP array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`); that is all this understands.
 */
export class RespRequestParser {
  private buffer = Buffer.alloc(0);

  push(chunk: Buffer): ProxiedCommand[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const parsed: ProxiedCommand[] = [];
    for (;;) {
      const command = this.next();
      if (!command) return parsed;
      parsed.push(command);
    }
  }

  /** One whole command from the buffer (consuming it), or null if it is not all there yet. */
  private next(): ProxiedCommand | null {
    let offset = 0;
    const line = (): string | null => {
      const end = this.buffer.indexOf('\r\n', offset);
      if (end < 0) return null;
      const text = this.buffer.toString('latin1', offset, end);
      offset = end + 2;
      return text;
    };
    const header = line();
    if (header === null) return null;
    if (!header.startsWith('*')) {
      // Not what ioredis sends: count it as one unknown command rather than guess at its framing.
      this.buffer = Buffer.alloc(0);
      return { name: '?', args: [header.slice(0, 40)] };
    }
    const parts: string[] = [];
    for (let i = 0; i < Number(header.slice(1)); i++) {
      const size = line();
      if (size === null) return null;
      const length = Number(size.slice(1));
      if (this.buffer.length < offset + length + 2) return null;
      parts.push(this.buffer.toString('utf8', offset, offset + length));
      offset += length + 2;
    }
    this.buffer = this.buffer.subarray(offset);
    const [name = '', ...args] = parts;
    return { name: name.toLowerCase(), args };
  }
}
