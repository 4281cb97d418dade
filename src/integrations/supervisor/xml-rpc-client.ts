import { sendHttp, socketPathOf, type HttpEndpoint } from '../restart/http-request.js';
import { decodeMethodResponse, encodeMethodCall, XmlRpcFormatError, type XmlRpcValue } from './xml-rpc.js';

export interface XmlRpcClientOptions {
  /** http(s)://host:port/RPC2, or unix:///path/to.sock (the call then goes to /RPC2 on the socket). */
  url: string;
  username?: string;
  password?: string;
}

/** The server answered HTTP, but not with 200 (401 for bad credentials, 404 for a wrong path). */
export class XmlRpcHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}`);
    this.name = 'XmlRpcHttpError';
  }
}

export interface XmlRpcClient {
  /** Rejects with XmlRpcFault, XmlRpcHttpError, XmlRpcFormatError, RequestAborted or a socket error. */
  call(method: string, params: readonly XmlRpcValue[], signal: AbortSignal): Promise<XmlRpcValue>;
}

/** supervisorctl's own path on a unix socket. */
const SOCKET_RPC_PATH = '/RPC2';

export function createXmlRpcClient(options: XmlRpcClientOptions): XmlRpcClient {
  const url = new URL(options.url);
  const endpoint: HttpEndpoint =
    url.protocol === 'unix:' ? { baseUrl: new URL('http://localhost'), socketPath: socketPathOf(url) } : { baseUrl: url };
  const path = url.protocol === 'unix:' ? SOCKET_RPC_PATH : `${url.pathname}${url.search}`;
  const authorization =
    options.username !== undefined
      ? `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`
      : undefined;
  return {
    async call(method, params, signal) {
      const answer = await sendHttp(endpoint, {
        method: 'POST',
        path,
        headers: { 'content-type': 'text/xml', ...(authorization ? { authorization } : {}) },
        body: encodeMethodCall(method, params),
        signal,
        maxBodyBytes: 5_000_000,
      });
      if (answer.status !== 200) throw new XmlRpcHttpError(answer.status, answer.body);
      if (!/xml/i.test(answer.headers['content-type'] ?? 'text/xml')) {
        throw new XmlRpcFormatError(`answered ${answer.headers['content-type'] ?? 'no content type'} instead of XML`);
      }
      return decodeMethodResponse(answer.body);
    },
  };
}
