import assert from "node:assert/strict";
import type { TcpEndpoint } from "./endpoint.ts";
import { nagleTrim, probeStart } from "./tso_split.ts";

// A super-segment is the segments the stack would send without TSO, back to
// back: these pin where its short tail is cut off.

/** An endpoint with 100 bytes at 1..101 sent and unacknowledged (a short segment out). */
function smallOut(over: Partial<TcpEndpoint> = {}): TcpEndpoint {
  return {
    sndUna: 1,
    sndNxt: 101,
    sndMax: 101,
    sndSml: 101,
    noDelay: false,
    maxSndWnd: 65535,
    finQueued: false,
    finSeq: 0,
    ...over,
  } as TcpEndpoint;
}

Deno.test("tso_split: the probe is the last MSS of a super-segment, or the short tail", () => {
  assert.equal(probeStart(1, 64_001, 1000), 63_001);
  assert.equal(probeStart(1, 2501, 1000), 2001);
  assert.equal(probeStart(1, 1001, 1000), 1);
  assert.equal(probeStart(0xffff_fc18, 1000, 1000), 0, "across sequence wrap-around");
});

Deno.test("tso_split: Nagle holds the short tail only while a short segment is out and TCP_NODELAY is off", () => {
  assert.equal(nagleTrim(smallOut(), 2500, 1000, 2500, false), 2000);
  assert.equal(nagleTrim(smallOut({ noDelay: true }), 2500, 1000, 2500, false), 2500);
  assert.equal(nagleTrim(smallOut({ sndUna: 101 }), 2500, 1000, 2500, false), 2500);
  assert.equal(nagleTrim(smallOut(), 4000, 1000, 4000, false), 4000, "whole segments all go");
});

Deno.test("tso_split: a tail that is not the end of the data waits unless it fills half the largest window", () => {
  const ep = smallOut({ sndUna: 101 });
  assert.equal(
    nagleTrim(ep, 1546, 1000, 30_000, false),
    1000,
    "a byte window (PRR) sends whole segments",
  );
  assert.equal(
    nagleTrim(smallOut({ sndUna: 101, maxSndWnd: 1000 }), 1546, 1000, 30_000, false),
    1546,
  );
});

Deno.test("tso_split: a tail with the FIN, a forced send and a go-back-N resend are not trimmed", () => {
  assert.equal(
    nagleTrim(smallOut({ finQueued: true, finSeq: 2601 }), 2500, 1000, 2500, false),
    2500,
  );
  assert.equal(nagleTrim(smallOut(), 2500, 1000, 2500, true), 2500);
  assert.equal(nagleTrim(smallOut({ sndNxt: 1, sndMax: 3001 }), 2500, 1000, 2500, false), 2500);
});
