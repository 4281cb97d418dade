import { connect } from 'node:net';
import type { TcpHealthCheck } from '../schema.js';
import type { Probe } from '../types.js';
import { onAbort } from './on-abort.js';

/** Ok as soon as the TCP handshake completes; nothing is sent. */
export const tcpProbe: Probe<TcpHealthCheck> = (check, { signal }) =>
  new Promise((resolve, reject) => {
    const socket = connect({ host: check.host, port: check.port });
    let unsubscribe = () => {};
    const finish = (settle: () => void) => {
      unsubscribe();
      socket.destroy();
      settle();
    };
    socket.once('connect', () => finish(() => resolve({ status: 'ok', detail: `connected to ${check.host}:${check.port}` })));
    socket.once('error', (error) => finish(() => reject(error)));
    unsubscribe = onAbort(signal, () => finish(() => reject(signal.reason)));
  });
