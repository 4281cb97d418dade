/**
 * The server half of RFC 6455, enough to stand in for Slack's Socket Mode endpoint in tests:
 * the opening handshake, unfragmented and fragmented text frames from a masking client, and the
 * ping/pong and close handshakes. Node 20 ships a WebSocket client (via undici) but no server,
 * and a test double is not worth a dependency. No extensions, no subprotocols.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

// RFC 6455 §1.3: the server proves it read the handshake by hashing the key with this GUID.
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;
// Far above any Socket Mode acknowledgement; a bigger message is a bug in the app under test.
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
// A client that never answers our close frame is cut off after this.
const CLOSE_HANDSHAKE_MS = 2_000;

export interface CloseInfo {
  /** Who sent the first close frame; `none` when the TCP connection ended without one. */
  initiatedBy: 'client' | 'server' | 'none';
  /** The status code in the first close frame (1005 when it carried none, RFC 6455 §7.1.5). */
  code: number | undefined;
  reason: string;
  /** Both close frames were exchanged before the TCP connection ended. */
  clean: boolean;
  /** Set when the server closed because the client broke the protocol. */
  protocolError?: string;
}

export interface WebSocketPeer {
  readonly isOpen: boolean;
  /** Ping frames the client sent (each answered with a pong). */
  readonly pingsReceived: number;
  sendText(text: string): void;
  /** Sends a ping; resolves when the client's pong echoes its payload, rejects after timeoutMs. */
  ping(payload?: string, timeoutMs?: number): Promise<void>;
  /** Starts the close handshake; resolves when the connection has ended. */
  close(code?: number, reason?: string): Promise<CloseInfo>;
  /** Resolves when the TCP connection ends, however it ends. */
  readonly closed: Promise<CloseInfo>;
}

export function webSocketAccept(key: string): string {
  return createHash('sha1').update(key + HANDSHAKE_GUID).digest('base64');
}

function isHandshake(req: IncomingMessage): boolean {
  const has = (header: string | undefined, token: string) =>
    (header ?? '')
      .split(',')
      .map((part) => part.trim().toLowerCase())
      .includes(token);
  const key = req.headers['sec-websocket-key'];
  return (
    req.method === 'GET' &&
    has(req.headers.upgrade, 'websocket') &&
    has(req.headers.connection, 'upgrade') &&
    typeof key === 'string' &&
    Buffer.from(key, 'base64').length === 16
  );
}

/** Answers an `upgrade` request with an HTTP error and drops the connection. */
export function rejectUpgrade(socket: Duplex, status: number, reason: string, headers: Record<string, string> = {}): void {
  const lines = [`HTTP/1.1 ${status} ${reason}`, 'Connection: close', 'Content-Length: 0', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.end(`${lines.join('\r\n')}\r\n\r\n`);
}

function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  let header: Buffer;
  if (length < 126) {
    header = Buffer.from([0x80 | opcode, length]);
  } else if (length < 65_536) {
    header = Buffer.alloc(4);
    header.writeUInt16BE(length, 2);
    header[1] = 126;
  } else {
    header = Buffer.alloc(10);
    header.writeBigUInt64BE(BigInt(length), 2);
    header[1] = 127;
  }
  header[0] = 0x80 | opcode;
  return Buffer.concat([header, payload]);
}

function closePayload(code: number | undefined, reason: string): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const body = Buffer.alloc(2 + Buffer.byteLength(reason));
  body.writeUInt16BE(code, 0);
  body.write(reason, 2);
  return body;
}

/**
 * Completes the opening handshake of an `upgrade` request and speaks WebSocket on its socket,
 * or answers 400/426 and returns undefined when the request is not a version-13 handshake.
 */
export function acceptWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  onText: (text: string) => void,
): WebSocketPeer | undefined {
  if (!isHandshake(req)) {
    rejectUpgrade(socket, 400, 'Bad Request');
    return undefined;
  }
  if (req.headers['sec-websocket-version'] !== '13') {
    rejectUpgrade(socket, 426, 'Upgrade Required', { 'Sec-WebSocket-Version': '13' });
    return undefined;
  }
  socket.write(
    [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${webSocketAccept(req.headers['sec-websocket-key'] as string)}`,
      '',
      '',
    ].join('\r\n'),
  );
  if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') socket.setNoDelay(true);

  let buffered: Buffer = Buffer.alloc(0);
  let fragments: Buffer[] | undefined;
  let fragmentsBinary = false;
  let fragmentBytes = 0;
  let closeSent = false;
  let closeReceived = false;
  let ended = false;
  let failed = false;
  let pingsReceived = 0;
  let closeTimer: NodeJS.Timeout | undefined;
  const info: CloseInfo = { initiatedBy: 'none', code: undefined, reason: '', clean: false };
  const pongWaiters = new Map<string, (error?: Error) => void>();

  let resolveClosed!: (info: CloseInfo) => void;
  const closed = new Promise<CloseInfo>((resolve) => (resolveClosed = resolve));

  const write = (opcode: number, payload: Buffer) => {
    if (!ended && !socket.destroyed) socket.write(encodeFrame(opcode, payload));
  };

  const sendClose = (code: number | undefined, reason: string) => {
    if (closeSent) return;
    closeSent = true;
    write(OPCODE.close, closePayload(code, reason));
  };

  const startClose = (code: number | undefined, reason: string) => {
    if (closeSent) return;
    if (info.initiatedBy === 'none') Object.assign(info, { initiatedBy: 'server', code, reason });
    sendClose(code, reason);
    closeTimer = setTimeout(() => socket.destroy(), CLOSE_HANDSHAKE_MS);
  };

  const fail = (code: number, problem: string) => {
    failed = true;
    info.protocolError ??= problem;
    startClose(code, problem);
    // After a protocol error nothing the client sends can be trusted: drop the connection.
    socket.end();
  };

  const onClose = (payload: Buffer) => {
    if (payload.length === 1) return fail(1002, 'close frame with a one-byte body');
    const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
    const reason = payload.subarray(2).toString('utf8');
    closeReceived = true;
    if (info.initiatedBy === 'none') Object.assign(info, { initiatedBy: 'client', code, reason });
    // Echo the code (RFC 6455 §5.5.1); the server then ends the TCP connection first (§7.1.1).
    sendClose(payload.length >= 2 ? code : undefined, '');
    socket.end();
  };

  const onData = (opcode: number, fin: boolean, payload: Buffer) => {
    if (opcode === OPCODE.continuation) {
      if (!fragments) return fail(1002, 'continuation frame without a message to continue');
    } else if (fragments) {
      return fail(1002, 'new data frame while a fragmented message is unfinished');
    } else {
      fragments = [];
      fragmentsBinary = opcode === OPCODE.binary;
      fragmentBytes = 0;
    }
    fragments.push(payload);
    fragmentBytes += payload.length;
    if (fragmentBytes > MAX_MESSAGE_BYTES) return fail(1009, 'message too big');
    if (!fin) return;
    const message = Buffer.concat(fragments);
    fragments = undefined;
    if (fragmentsBinary) return fail(1003, 'binary messages are not part of Socket Mode');
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(message);
    } catch {
      return fail(1007, 'text message is not valid UTF-8');
    }
    onText(text);
  };

  const onFrame = (fin: boolean, opcode: number, payload: Buffer) => {
    if (closeReceived) return;
    if (opcode >= 0x8) {
      if (!fin || payload.length > 125) return fail(1002, 'control frames must be unfragmented and at most 125 bytes');
      if (opcode === OPCODE.close) return onClose(payload);
      if (opcode === OPCODE.ping) {
        pingsReceived++;
        return write(OPCODE.pong, payload);
      }
      if (opcode === OPCODE.pong) {
        const key = payload.toString('utf8');
        const waiter = pongWaiters.get(key);
        pongWaiters.delete(key);
        waiter?.();
        return;
      }
      return fail(1002, `unknown control opcode ${opcode}`);
    }
    if (opcode === OPCODE.continuation || opcode === OPCODE.text || opcode === OPCODE.binary) return onData(opcode, fin, payload);
    return fail(1002, `unknown data opcode ${opcode}`);
  };

  const parse = () => {
    while (!ended && !failed && buffered.length >= 2) {
      const b0 = buffered[0]!;
      const b1 = buffered[1]!;
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffered.length < 4) return;
        length = buffered.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffered.length < 10) return;
        const long = buffered.readBigUInt64BE(2);
        if (long > BigInt(MAX_MESSAGE_BYTES)) return fail(1009, 'frame too big');
        length = Number(long);
        offset = 10;
      }
      if ((b1 & 0x80) === 0) return fail(1002, 'client frames must be masked (RFC 6455 §5.1)');
      if ((b0 & 0x70) !== 0) return fail(1002, 'reserved bits set without a negotiated extension');
      if (buffered.length < offset + 4 + length) return;
      const mask = buffered.subarray(offset, offset + 4);
      const payload = Buffer.from(buffered.subarray(offset + 4, offset + 4 + length));
      for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
      buffered = buffered.subarray(offset + 4 + length);
      onFrame((b0 & 0x80) !== 0, b0 & 0x0f, payload);
    }
  };

  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    parse();
  });
  // A reset from the client still ends in 'close'; without a listener the error would be thrown.
  socket.on('error', () => undefined);
  socket.on('close', () => {
    ended = true;
    clearTimeout(closeTimer);
    info.clean = closeSent && closeReceived;
    for (const waiter of pongWaiters.values()) waiter(new Error('connection closed before the pong'));
    pongWaiters.clear();
    resolveClosed({ ...info });
  });
  if (head.length) {
    buffered = Buffer.from(head);
    parse();
  }

  return {
    get isOpen() {
      return !ended && !closeSent && !closeReceived;
    },
    get pingsReceived() {
      return pingsReceived;
    },
    sendText(text) {
      if (closeSent || closeReceived) throw new Error('WebSocket is closing; cannot send');
      write(OPCODE.text, Buffer.from(text, 'utf8'));
    },
    ping(payload = `ping ${Date.now()}`, timeoutMs = 2_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          pongWaiters.delete(payload);
          reject(new Error(`no pong for "${payload}" within ${timeoutMs} ms`));
        }, timeoutMs);
        pongWaiters.set(payload, (error) => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        });
        write(OPCODE.ping, Buffer.from(payload, 'utf8'));
      });
    },
    close(code = 1000, reason = '') {
      startClose(code, reason);
      return closed;
    },
    closed,
  };
}
