/**
 * MLD's classification of groups (RFC 3810 §6): which ones reports ever
 * mention. The per-interface state itself is the shared group table's
 * (`stack/ip/multicast_groups.ts`).
 *
 * @module
 */
import type { IpKey } from "../../wire/ip_address.ts";

/** Whether `key` (a multicast address) is ever reported: RFC 3810 §6 excludes ff02::1 and scopes 0 and 1. */
export function isReported(key: IpKey): boolean {
  const w0 = (key as string).charCodeAt(0);
  const scope = w0 & 0xf;
  if (scope <= 1) return false;
  if (w0 === 0xff02) {
    const k = key as string;
    for (let i = 1; i < 7; i++) if (k.charCodeAt(i) !== 0) return true;
    return k.charCodeAt(7) !== 1;
  }
  return true;
}
