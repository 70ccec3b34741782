// One large request body at a time: a second one meanwhile is refused with 503, so big decodes never pile up.
import { HttpError } from './errors.js';

/** Bodies above this size (by Content-Length; unknown counts as big) are read one at a time. */
export const BIG_BODY_BYTES = 1024 * 1024;

export class BigBodyGate {
  private busy = 0;

  /** Enters for a big body (503 if another is in) and returns what leaves; a small body passes with a no-op. */
  enter(req: { headers: Record<string, string | string[] | undefined> }): () => void {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared <= BIG_BODY_BYTES) return () => {};
    if (this.busy > 0)
      throw new HttpError(
        503,
        'the server is reading another large create request; retry in a second',
        { 'Retry-After': '1', Connection: 'close' },
        'busy',
      );
    this.busy++;
    return () => void this.busy--;
  }
}
