/**
 * The integrity soak of `integrity_test.ts` (loss, reordering, duplication,
 * corruption, 20 ms ± 5 ms each way) with each other congestion control on
 * both ends: BBR (paced, its model fed by every ACK's rate sample) and
 * NewReno; CUBIC, the default, is `integrity_test.ts` itself. Plus BBR at
 * MTU 65535 and CUBIC with the `pacing` option.
 *
 * The CI subset is 1 MiB each way over 4 seeds per algorithm. `TCP_SOAK=1`
 * runs the full size: 64 MiB each way over 50 seeds (`TCP_SOAK_MIB`
 * and `TCP_SOAK_SEEDS` override).
 */
import { SOAK_FAULTS, soakExchange, soakSize } from "./_transfer.ts";

const { mib: MIB, seeds: SEEDS } = soakSize(4);

for (const cc of ["bbr", "newreno"]) {
  for (let seed = 1; seed <= SEEDS; seed++) {
    Deno.test(`tcp ${cc}: ${MIB} MiB each way under loss, reorder, duplication and corruption, seed ${seed}`, async () => {
      await soakExchange({
        seed,
        total: MIB * 1024 * 1024,
        faults: SOAK_FAULTS,
        tcp: { congestionControl: cc },
      });
    });
  }
}

Deno.test("tcp bbr: 4 MiB each way at MTU 65535 under the same faults (64 KiB segments)", async () => {
  await soakExchange({
    seed: 101,
    total: 4 * 1024 * 1024,
    faults: SOAK_FAULTS,
    mtu: 65535,
    tcp: { congestionControl: "bbr" },
  });
});

Deno.test("tcp cubic with pacing: 1 MiB each way under the same faults", async () => {
  await soakExchange({
    seed: 201,
    total: 1024 * 1024,
    faults: SOAK_FAULTS,
    tcp: { congestionControl: "cubic", pacing: true },
  });
});
