/**
 * The `tcp.sockets` contract (`stack/stream.ts`) used directly, without
 * the Deno-shaped adapter: synchronous calls, readiness events, error
 * kinds. Two stacks on an in-memory link, driven by `net.runUntilIdle()`:
 * no promise anywhere.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type ArpService,
  createStack,
  IpAddress,
  type StreamError,
  type StreamEvents,
  type StreamListener,
  type StreamService,
  type StreamSocket,
  VirtualNetwork,
} from "../../mod.ts";

const A = 0x0a000001;
const B = 0x0a000002;

function pair() {
  const net = new VirtualNetwork({ seed: 1 });
  const link = net.link();
  const a = net.addNode(createStack({ clock: net.clock, seed: 1, strictCounters: true }));
  const b = net.addNode(createStack({ clock: net.clock, seed: 2, strictCounters: true }));
  const ia = a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
  const ib = b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
  a.service<ArpService>("arp.resolve")!.addStatic(ia.index, B, ib.mac!);
  b.service<ArpService>("arp.resolve")!.addStatic(ib.index, A, ia.mac!);
  const tcpA = a.service<StreamService>("tcp.sockets")!;
  const tcpB = b.service<StreamService>("tcp.sockets")!;
  return {
    net,
    tcpA,
    tcpB,
    close() {
      a.close();
      b.close();
      net.close();
    },
  };
}

/** Records every event a socket reports, in order. */
class Log implements StreamEvents {
  readonly events: string[] = [];
  onConnected(): void {
    this.events.push("connected");
  }
  onReadable(): void {
    this.events.push("readable");
  }
  onWritable(): void {
    this.events.push("writable");
  }
  onClosed(error: StreamError | null): void {
    this.events.push(`closed:${error}`);
  }
}

function opened<T extends object>(r: T | StreamError | null): T {
  assert.ok(r !== null && typeof r !== "string", `expected a socket, got "${r}"`);
  return r;
}

Deno.test("tcp.sockets used directly: connect, accept, write, read, half-close, end of stream", () => {
  const p = pair();
  const listener: StreamListener = opened(p.tcpB.listen({ port: 7 }));
  let acceptable = 0;
  listener.events = { onAcceptable: () => acceptable++, onClosed() {} };
  assert.equal(listener.localPort, 7);
  assert.equal(listener.localAddress.toString(), "0.0.0.0");

  const client: StreamSocket = opened(
    p.tcpA.connect({ address: IpAddress.parse("10.0.0.2")!, port: 7 }),
  );
  const clientLog = new Log();
  client.events = clientLog;
  assert.equal(client.state, "SYN-SENT");
  assert.equal(client.connected, false);
  p.net.runUntilIdle();

  assert.deepEqual(clientLog.events, ["connected"]);
  assert.equal(client.connected, true);
  assert.equal(client.localAddress.toString(), "10.0.0.1");
  assert.equal(client.remoteAddress.toString(), "10.0.0.2");
  assert.equal(acceptable, 1);
  assert.equal(listener.pending, 1);
  const server = opened(listener.accept());
  assert.equal(listener.accept(), null);
  const serverLog = new Log();
  server.events = serverLog;
  assert.equal(server.remotePort, client.localPort);

  const hello = new TextEncoder().encode("hello");
  assert.equal(client.write(hello), 5);
  client.shutdown();
  assert.equal(client.shutDown, true);
  assert.equal(client.canWrite, false);
  assert.equal(client.write(hello), 0, "no bytes taken after shutdown");
  p.net.runUntilIdle();

  assert.ok(serverLog.events.includes("readable"));
  assert.equal(server.readable, 5);
  const into = new Uint8Array(16);
  assert.equal(server.read(into), 5);
  assert.equal(new TextDecoder().decode(into.subarray(0, 5)), "hello");
  assert.equal(server.readable, 0);
  assert.equal(server.eof, true, "the client's FIN ends the stream");
  assert.equal(server.canWrite, true, "half-closed: the server may still send");

  server.close();
  p.net.runUntilIdle();
  assert.equal(client.eof, true);
  client.close();
  p.net.runUntilIdle();
  assert.deepEqual(serverLog.events.filter((e) => e.startsWith("closed")), []);
  listener.close();
  p.close();
});

Deno.test("tcp.sockets used directly: a refused connect ends with the kind connection_refused", () => {
  const p = pair();
  const client = opened(p.tcpA.connect({ address: IpAddress.parse("10.0.0.2")!, port: 9 }));
  const log = new Log();
  client.events = log;
  p.net.runUntilIdle();
  assert.deepEqual(
    log.events,
    ["readable", "writable", "closed:connection_refused"].filter(
      (e) => log.events.includes(e),
    ),
  );
  assert.equal(log.events.at(-1), "closed:connection_refused");
  assert.equal(client.closed, true);
  assert.equal(client.error, "connection_refused");
  assert.equal(client.errorText, "Connection refused");
  p.close();
});

Deno.test("tcp.sockets used directly: a reset once open ends with connection_reset; abort sends it", () => {
  const p = pair();
  const listener = opened(p.tcpB.listen({ port: 7 }));
  const client = opened(p.tcpA.connect({ address: IpAddress.parse("10.0.0.2")!, port: 7 }));
  const log = new Log();
  client.events = log;
  p.net.runUntilIdle();
  const server = opened(listener.accept());
  server.abort();
  assert.equal(server.closed, true);
  p.net.runUntilIdle();
  assert.equal(log.events.at(-1), "closed:connection_reset");
  assert.equal(client.error, "connection_reset");
  listener.close();
  p.close();
});

Deno.test("tcp.sockets used directly: open failures are codes, not exceptions", () => {
  const p = pair();
  const to = (a: string, port: number) => ({ address: IpAddress.parse(a)!, port });
  assert.equal(p.tcpA.connect(to("192.168.9.9", 80)), "no_route");
  assert.equal(p.tcpA.connect(to("0.0.0.0", 80)), "invalid_destination");
  // IPv6 is loaded by default: a destination without a route fails as any other.
  assert.equal(p.tcpA.connect(to("2001:db8::1", 80)), "no_route");
  assert.equal(
    p.tcpA.connect({ ...to("10.0.0.2", 80), congestionControl: "vegas" }),
    "invalid_option",
  );
  assert.equal(p.tcpA.connect(to("10.0.0.2", 70000)), "invalid_option");
  assert.equal(
    p.tcpA.connect({ ...to("10.0.0.2", 80), localAddress: IpAddress.parse("10.0.0.7")! }),
    "addr_not_available",
  );
  const l = opened(p.tcpB.listen({ port: 80 }));
  assert.equal(p.tcpB.listen({ port: 80 }), "addr_in_use");
  assert.equal(
    p.tcpB.listen({ address: IpAddress.parse("10.0.0.9")!, port: 81 }),
    "addr_not_available",
  );
  assert.equal(p.tcpB.listen({ port: 82, backlog: 0 }), "invalid_option");
  assert.deepEqual(p.tcpA.sockets(), [], "nothing left behind by the failures");
  l.close();
  p.close();
});
