/**
 * The services through `cli.ts up --driver tap`: Linux resolves the virtual
 * host with ARP, then curl fetches the status page and 1 MB goes through
 * echo; tshark checks the capture (see tests/services/_interop.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { HOST, SERVICE_INTEROP_NEEDS, withUp } from "../services/_interop.ts";
import { gated } from "../_require.ts";

const MAC = "02:00:5e:00:00:42";

Deno.test(gated(SERVICE_INTEROP_NEEDS, {
  name: "services tap: curl gets the status page after ARP; 1 MB through echo",
  async fn() {
    await withUp(
      { driver: "tap", serve: "http,echo", args: ["--mac", MAC] },
      async (h) => {
        const page = await h.exec(["curl", "-sS", "--max-time", "5", `http://${HOST}/`], 10);
        assert.equal(page.code, 0, page.stderr);
        assert.match(page.stdout, /<h1>deno-netstack<\/h1>/);
        assert.match(page.stdout, new RegExp(`ether ${MAC}`));
        assert.match(page.stdout, /^arp:$/m);
        const neigh = await h.exec(["ip", "neigh", "show", HOST, "dev", h.ifname], 5);
        assert.match(neigh.stdout, new RegExp(`^${HOST.replaceAll(".", "\\.")} lladdr ${MAC} `));
        const dir = await Deno.makeTempDir({ prefix: "svc-tap-" });
        try {
          const echo = await h.sh(
            `head -c 1000000 /dev/urandom > ${dir}/in && ` +
              `nc -N -w 5 ${HOST} 7 < ${dir}/in > ${dir}/out && cmp ${dir}/in ${dir}/out && echo same`,
            30,
          );
          assert.equal(echo.stdout, "same\n", echo.stderr);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
        assert.equal(h.stack.counters.value("echo.bytes"), 1_000_000);
      },
    );
  },
}));
