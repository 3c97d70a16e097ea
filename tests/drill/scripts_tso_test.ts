/**
 * The repository's packetdrill scripts again with TSO on the link (`drill
 * --tso`, as packetdrill's own TUN has it): the stack sends super-segments,
 * and every script must still pass, since the scripts' expectations are
 * Linux's and Linux sends the same with TSO (tail loss probe of the last
 * MSS, RACK's tie-break by end sequence, Nagle on the short tail, RTT from a
 * partly acknowledged super-segment: stack/protocols/tcp/tso_split.ts).
 */
import { drillTests } from "./_drill.ts";

drillTests(new URL("./scripts/", import.meta.url), { tso: true, prefix: "drill --tso" });
