/**
 * UDP segmentation offload (USO) for the TUN driver. On receive, with
 * `TUN_F_USO4`/`TUN_F_USO6` Linux may hand the driver one UDP
 * "super-datagram" (virtio-net gso_type `UDP_L4`) where a sender used
 * `UDP_SEGMENT` (or GRO merged datagrams); {@linkcode segmentUdp} cuts it
 * into the datagrams it stands for. On transmit, a super-datagram a socket
 * sent with `segmentSize` goes to Linux whole, described by the virtio-net
 * header (`vnet.ts`, `writeTxHeader`), and Linux segments it. The
 * segmenter itself lives in `stack/wire/udp_gso.ts`: the stack uses it too,
 * for links without USO.
 *
 * @module
 */
export { segmentUdp, UDP_MAX_SEGMENTS } from "../../stack/wire/udp_gso.ts";
