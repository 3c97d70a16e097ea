/**
 * The scenarios of `_close_cases.ts` on real Deno sockets, on loopback
 * only: run by `close_like_deno_test.ts` as `deno run --unstable-net
 * --allow-net=127.0.0.1 --allow-run=python3`; prints one JSON object,
 * scenario → outcome. Python's socket sends the RST (SO_LINGER 0), which
 * Deno's API cannot.
 *
 * @module
 */
import { type CaseNet, runCases } from "./_close_cases.ts";

const HOST = "127.0.0.1";

const real: CaseNet = {
  peer: HOST,
  async pair() {
    const l = Deno.listen({ hostname: HOST, port: 0 });
    const [c, s] = await Promise.all([
      Deno.connect({ hostname: HOST, port: l.addr.port }),
      l.accept(),
    ]);
    const done = () => {
      s.close();
      l.close();
    };
    return { c, s, done };
  },
  async pairToReset() {
    const l = Deno.listen({ hostname: HOST, port: 0 });
    const py = new Deno.Command("python3", {
      args: [
        "-c",
        `import socket, struct, time
c = socket.create_connection(("${HOST}", ${l.addr.port}))
time.sleep(0.2)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()`,
      ],
    }).spawn();
    const s = await l.accept();
    const reset = async () => {
      await py.status;
      await real.sleep(20);
    };
    const done = () => {
      s.close();
      l.close();
    };
    return { s, reset, done };
  },
  listen: () => Deno.listen({ hostname: HOST, port: 0 }),
  listenDatagram: () => Deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 }),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

const out = await runCases(real);
await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(out)));
