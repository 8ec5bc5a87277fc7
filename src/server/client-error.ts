/**
 * Answers requests that never reach Fastify's router because Node's HTTP parser rejects them (a raw non-ASCII
 * byte in the request line, a malformed header, headers too large, a request not received within
 * `requestTimeoutMs`): the error envelope of API.md (Fastify's default body has no `code`) and `Connection:
 * close`. Without that header a keep-alive client returns the socket to its pool, the server then destroys it,
 * and the client's *next* request fails with a reset (seen under fuzzing: 11 of 1,500 requests). Passed to
 * Fastify as `clientErrorHandler` by app.ts.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { toEnvelope } from './error-handler.js';

/** Writes one envelope answer and closes the socket; a reset or already-closed socket is just destroyed. */
export function handleClientError(err: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  let status = 400;
  let message = 'request: malformed HTTP (request line or headers)';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    message = 'request: not received completely in time';
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    message = 'headers: too large';
  }
  const body = JSON.stringify(toEnvelope(status, status === 408 ? 'REQUEST_TIMEOUT' : 'INVALID_ARGUMENT', message));
  // A HEAD answer has no body (a client would read it as garbage after the response).
  const head = Buffer.isBuffer(err.rawPacket) && err.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${head ? '' : body}`,
  );
}
