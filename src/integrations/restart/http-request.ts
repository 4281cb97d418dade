import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Where an HTTP API lives: a TCP base URL, or a unix socket (then the URL's host is only the Host header). */
export interface HttpEndpoint {
  /** http:// or https:// base; its path is ignored, requests give their own. */
  baseUrl: URL;
  socketPath?: string;
  tls?: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string; rejectUnauthorized?: boolean; servername?: string };
}

export interface HttpCall {
  method: string;
  /** Path with the query string, already encoded. */
  path: string;
  headers?: OutgoingHttpHeaders;
  body?: string;
  signal: AbortSignal;
  /** Answers longer than this are cut; APIs we call answer in kilobytes. */
  maxBodyBytes?: number;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The request was aborted by its signal; callers word it with the deadline's reason. */
export class RequestAborted extends Error {
  constructor() {
    super('request aborted');
    this.name = 'RequestAborted';
  }
}

const DEFAULT_MAX_BODY = 1_000_000;

/**
 * One HTTP request with node:http, because fetch cannot speak over a unix socket or take a
 * per-request CA and client certificate. Transport errors are rejected as node raised them.
 */
export function sendHttp(endpoint: HttpEndpoint, call: HttpCall): Promise<HttpAnswer> {
  if (call.signal.aborted) return Promise.reject(new RequestAborted());
  const secure = endpoint.baseUrl.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  const maxBody = call.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const headers: OutgoingHttpHeaders = { ...call.headers };
  if (call.body !== undefined) headers['content-length'] = Buffer.byteLength(call.body);
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      call.signal.removeEventListener('abort', onAbort);
      fn();
    };
    const req = send({
      method: call.method,
      path: call.path,
      headers,
      agent: false,
      ...(endpoint.socketPath
        ? { socketPath: endpoint.socketPath, host: 'localhost' }
        : { host: endpoint.baseUrl.hostname.replace(/^\[|\]$/g, ''), port: endpoint.baseUrl.port || (secure ? 443 : 80) }),
      ...(secure ? { ...endpoint.tls } : {}),
    });
    const onAbort = () => {
      req.destroy();
      finish(() => reject(new RequestAborted()));
    };
    call.signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error) => finish(() => reject(error)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size >= maxBody) return;
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('error', (error) => finish(() => reject(error)));
      res.on('end', () =>
        finish(() =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).subarray(0, maxBody).toString('utf8') }),
        ),
      );
    });
    req.end(call.body);
  });
}

/** `unix:///var/run/x.sock` → `/var/run/x.sock`. */
export function socketPathOf(url: URL): string {
  return decodeURIComponent(url.pathname);
}
