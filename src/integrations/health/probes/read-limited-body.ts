/** Health endpoints answer in bytes; a megabyte means something is wrong, and we must not buffer more. */
export const MAX_BODY_BYTES = 1_000_000;

export class BodyTooLargeError extends Error {
  constructor() {
    super(`response body larger than ${MAX_BODY_BYTES / 1_000_000} MB`);
  }
}

/** Reads a fetch body as UTF-8 text, cancelling the stream once it exceeds `limit` bytes. */
export async function readLimitedBody(response: Response, limit = MAX_BODY_BYTES): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new BodyTooLargeError();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
