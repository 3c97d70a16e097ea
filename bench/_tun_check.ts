/**
 * Whether a TUN benchmark can run here: Linux, root, `/dev/net/tun`, and
 * the permissions it uses. One check for `tun_bench.ts` (in-process: no
 * `--allow-env`) and the `up`-based ones (`_tun_host.ts`, which also read
 * the environment), so neither asks for more than it needs.
 *
 * @module
 */

/** Permissions every TUN benchmark needs (FFI for the device, `ip` and `ping` to run). */
const TUN_PERMISSIONS = ["ffi", "run", "read", "write", "sys"] as const;

/**
 * Why a TUN benchmark cannot run here (not Linux, a permission, root,
 * /dev/net/tun), or undefined. `env`: it needs `--allow-env` too.
 *
 * @example
 * ```ts
 * import { canRunTun } from "./_tun_check.ts";
 * const why = canRunTun();
 * if (why !== undefined) console.log(`skipped: ${why}`);
 * ```
 */
export function canRunTun(options: { readonly env?: boolean } = {}): string | undefined {
  if (Deno.build.os !== "linux") return "needs Linux";
  const names = options.env === true ? [...TUN_PERMISSIONS, "env" as const] : TUN_PERMISSIONS;
  for (const name of names) {
    if (Deno.permissions.querySync({ name }).state !== "granted") return `needs --allow-${name}`;
  }
  if (Deno.uid() !== 0) return "needs root";
  try {
    Deno.statSync("/dev/net/tun");
  } catch {
    return "no /dev/net/tun";
  }
  return undefined;
}
