import assert from "node:assert/strict";
import { TCP_ACK, TCP_FIN } from "../../wire/tcp.ts";
import { Segment } from "./core.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { receiveData } from "./rcv.ts";
import { ByteRing } from "./buffer.ts";

/** The fields receiveData reads on an endpoint, counting receive-ring allocations. */
function endpoint(rcvNxt: number) {
  const ep = {
    rcvNxt,
    rcvBuf: null as ByteRing | null,
    asm: null,
    finRecvd: false,
    finRecvSeq: 0,
    bytesReceived: 0,
    user: null,
    core: { cfg: { receiveBuffer: 1 << 16 } },
    ringsMade: 0,
    rcvBuffer(): ByteRing {
      if (this.rcvBuf === null) {
        this.rcvBuf = new ByteRing(this.core.cfg.receiveBuffer);
        this.ringsMade++;
      }
      return this.rcvBuf;
    },
  };
  return ep;
}

Deno.test("tcp ESTABLISHED + bare FIN records the FIN without allocating a receive ring", () => {
  const ep = endpoint(1000);
  const seg = new Segment();
  seg.seq = 1000;
  seg.flags = TCP_FIN | TCP_ACK;
  receiveData(ep as unknown as TcpEndpoint, seg);
  assert.equal(ep.ringsMade, 0);
  assert.equal(ep.rcvBuf, null);
  assert.equal(ep.finRecvd, true);
  assert.equal(ep.finRecvSeq, 1000);
});
