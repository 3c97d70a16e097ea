/**
 * Content negotiation for the status page: how much an `Accept` field
 * wants a media type (RFC 9110 §12.5.1).
 *
 * @module
 */

/**
 * The quality the `Accept` field gives `type` (`text/plain`): the q of the
 * most specific matching range (RFC 9110 §12.5.1), 1 when there is no
 * `Accept`, 0 when nothing matches.
 *
 * @example
 * ```ts
 * import { acceptQuality } from "./accept.ts";
 * import assert from "node:assert/strict";
 * const accept = "text/html;q=0.5, text/*;q=0.8, *\/*;q=0.1";
 * assert.equal(acceptQuality(accept, "text/html"), 0.5);
 * assert.equal(acceptQuality(accept, "text/plain"), 0.8);
 * assert.equal(acceptQuality(undefined, "text/plain"), 1);
 * ```
 */
export function acceptQuality(accept: string | undefined, type: string): number {
  if (accept === undefined || accept.trim() === "") return 1;
  const [major] = type.split("/");
  let best = -1;
  let q = 0;
  for (const part of accept.split(",")) {
    const [range = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    let specificity: number;
    if (range === type) specificity = 2;
    else if (range === `${major}/*`) specificity = 1;
    else if (range === "*/*") specificity = 0;
    else continue;
    let quality = 1;
    for (const p of params) {
      const m = /^q=([01](\.\d{0,3})?)$/.exec(p);
      if (m) quality = Number(m[1]);
    }
    if (specificity > best) {
      best = specificity;
      q = quality;
    }
  }
  return q;
}
