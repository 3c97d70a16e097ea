/*
 * The floor of any user-space ICMP echo responder over TUN on this machine
 * (issue #13): attach to TUN device NAME, answer each IPv4 ICMP echo request
 * with an echo reply (addresses swapped, type 0, checksum fixed
 * incrementally, RFC 1624) and each ICMPv6 one (type 128 → 129: swapping
 * the addresses leaves the pseudo-header's sum as it was), write it back.
 * Nothing else. Built and run by
 * `bench/tun_floor.ts`, which pings it with iputils ping as
 * `bench/tun_bench.ts ping` pings the stack.
 *
 * Usage: tun_floor_echo NAME read|poll|spin
 *   read  blocking read() on the descriptor
 *   poll  O_NONBLOCK, poll() until readable, then read() until EAGAIN
 *   spin  O_NONBLOCK, read() in a loop that never sleeps (a core at 100%)
 * Runs until SIGTERM/SIGINT (or the benchmark's `timeout`).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static volatile sig_atomic_t stop = 0;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word m → m'. */
static uint16_t csum_update(uint16_t hc, uint16_t m, uint16_t m2) {
  uint32_t sum = (uint16_t)~hc + (uint16_t)~m + m2;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/*
 * Makes the request in buf a reply: swaps the source and destination
 * addresses (`len` bytes each, the source at `src`: neither the IPv4 header
 * checksum nor the ICMPv6 pseudo-header's sum changes), sets the ICMP type
 * to `reply` and fixes the checksum for the first word's change.
 */
static void reply_in_place(uint8_t *buf, size_t src, size_t len, uint8_t *icmp, uint8_t reply) {
  uint8_t tmp[16];
  memcpy(tmp, buf + src, len);
  memcpy(buf + src, buf + src + len, len);
  memcpy(buf + src + len, tmp, len);
  uint16_t before = (uint16_t)(icmp[0] << 8 | icmp[1]);
  icmp[0] = reply;
  uint16_t hc = (uint16_t)(icmp[2] << 8 | icmp[3]);
  hc = csum_update(hc, before, (uint16_t)(reply << 8 | icmp[1]));
  icmp[2] = (uint8_t)(hc >> 8);
  icmp[3] = (uint8_t)hc;
}

/* Turns an echo request in buf[0..n) into its reply; returns 0 if it is not one. */
static int echo(uint8_t *buf, ssize_t n) {
  if (n >= 48 && (buf[0] >> 4) == 6) {
    /* ICMPv6 right after the fixed header (no extension headers). */
    if (buf[6] != 58 || buf[40] != 128 || buf[41] != 0) return 0;
    reply_in_place(buf, 8, 16, buf + 40, 129);
    return 1;
  }
  if (n < 28 || (buf[0] >> 4) != 4 || buf[9] != 1) return 0;
  size_t ihl = (size_t)(buf[0] & 15) * 4;
  if (ihl < 20 || (ssize_t)ihl + 8 > n) return 0;
  uint8_t *icmp = buf + ihl;
  if (icmp[0] != 8 || icmp[1] != 0) return 0;
  reply_in_place(buf, 12, 4, icmp, 0);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s NAME read|poll|spin\n", argv[0]);
    return 2;
  }
  const char *mode = argv[2];
  int nonblock = strcmp(mode, "read") != 0;
  int spin = strcmp(mode, "spin") == 0;
  if (strcmp(mode, "read") != 0 && strcmp(mode, "poll") != 0 && !spin) {
    fprintf(stderr, "mode must be read, poll or spin\n");
    return 2;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));
  if (fd < 0) {
    perror("open /dev/net/tun");
    return 1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    perror("TUNSETIFF");
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: a blocking read() returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  printf("ready\n");
  fflush(stdout);
  static uint8_t buf[65536];
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  unsigned long answered = 0;
  while (!stop) {
    if (nonblock && !spin) {
      if (poll(&pfd, 1, 1000) <= 0) continue;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      perror("read");
      return 1;
    }
    if (echo(buf, n) && write(fd, buf, (size_t)n) == n) answered++;
  }
  printf("answered %lu\n", answered);
  return 0;
}
