// faultline-delayer: packet delay, jitter, duplication and reordering in userspace, for kernels without netem.
//
// iptables sends the packets to delay to an NFQUEUE; this program holds each packet's verdict until its
// release time and then accepts it. It speaks nfnetlink directly (no libnetfilter_queue), so it builds as one
// static binary that runs in any container. Reordering: a share of the packets is released at once, so they
// overtake the held ones (netem's "reorder"). Duplication: when a packet is released, a copy of its bytes is
// also sent through a raw socket; the copy carries a firewall mark so the queueing rules let it pass.
//
// Usage: faultline-delayer -q QUEUE [-d DELAY_MS] [-j JITTER_MS] [-u DUPLICATE_%] [-r REORDER_%]
//                          [-s SEED] [-m MARK] [-p PIDFILE] [-c COUNTERS_FILE]
// It binds the queue, then forks: the parent exits 0 once the child serves the queue (non-zero with a message
// when it cannot), so the caller knows the outcome synchronously. SIGTERM releases every held packet and exits.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECV_BUFFER (1 << 18)
#define QUEUE_MAXLEN 16384
#define COUNTERS_EVERY_NS 250000000ull

struct options {
  uint16_t queue;
  double delay_ms, jitter_ms, duplicate_pct, reorder_pct;
  uint64_t seed;
  uint32_t mark;
  const char *pidfile, *counters_file;
};

struct held {
  uint64_t due_ns;
  uint64_t arrival; /* arrival order: ties in due time keep it, and overtaking is judged by it */
  uint32_t id;
  uint64_t flow;
  unsigned char *copy; /* the packet's bytes when it is to be duplicated, else NULL */
  uint32_t copy_len;
};

struct counters {
  unsigned long queued, released, duplicated, early, overtook, held_max, errors;
};

static struct options opt = {.mark = 0xfa11};
static struct counters count;
static struct held *heap;
static size_t held_len, held_cap;
static int nl_fd = -1, raw_fd = -1;
static uint32_t nl_seq;
static uint64_t rng_state;
static volatile sig_atomic_t stopping;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: small and good enough to pick shares of packets. */
static double uniform01(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

/* Box-Muller: netem's "distribution normal" jitter. */
static double normal01(void) {
  double u = uniform01(), v = uniform01();
  if (u < 1e-12) u = 1e-12;
  return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* ---- nfnetlink messages ---- */

static struct nlmsghdr *message(char *buf, uint16_t type, uint16_t flags) {
  memset(buf, 0, NLMSG_SPACE(sizeof(struct nfgenmsg)));
  struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
  nlh->nlmsg_len = NLMSG_LENGTH(sizeof(struct nfgenmsg));
  nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  nlh->nlmsg_seq = ++nl_seq;
  struct nfgenmsg *gen = NLMSG_DATA(nlh);
  gen->nfgen_family = AF_UNSPEC;
  gen->version = NFNETLINK_V0;
  gen->res_id = htons(opt.queue);
  return nlh;
}

static void attribute(struct nlmsghdr *nlh, uint16_t type, const void *data, uint16_t len) {
  struct nlattr *attr = (struct nlattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));
  attr->nla_type = type;
  attr->nla_len = NLA_HDRLEN + len;
  memcpy((char *)attr + NLA_HDRLEN, data, len);
  nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(attr->nla_len);
}

static int send_message(struct nlmsghdr *nlh) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  return sendto(nl_fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0 ? -errno : 0;
}

/* Sends a config message with an ACK request and returns the kernel's answer (0 or -errno). */
static int configure(uint16_t attr_type, const void *data, uint16_t len) {
  char buf[256], answer[4096];
  struct nlmsghdr *nlh = message(buf, NFQNL_MSG_CONFIG, NLM_F_ACK);
  attribute(nlh, attr_type, data, len);
  int sent = send_message(nlh);
  if (sent < 0) return sent;
  for (;;) {
    ssize_t got = recv(nl_fd, answer, sizeof answer, 0);
    if (got < 0) return errno == EINTR ? 0 : -errno;
    int n = (int)got;
    for (struct nlmsghdr *h = (struct nlmsghdr *)answer; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == nl_seq) return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
    }
  }
}

static void verdict_accept(uint32_t id) {
  char buf[128];
  struct nlmsghdr *nlh = message(buf, NFQNL_MSG_VERDICT, 0);
  struct nfqnl_msg_verdict_hdr verdict = {.verdict = htonl(NF_ACCEPT), .id = htonl(id)};
  attribute(nlh, NFQA_VERDICT_HDR, &verdict, sizeof verdict);
  if (send_message(nlh) < 0) count.errors++;
}

/* ---- the held packets: a binary min-heap on (due time, arrival) ---- */

static int earlier(const struct held *a, const struct held *b) {
  return a->due_ns != b->due_ns ? a->due_ns < b->due_ns : a->arrival < b->arrival;
}

static void swap_held(size_t i, size_t j) {
  struct held tmp = heap[i];
  heap[i] = heap[j];
  heap[j] = tmp;
}

static void push_held(struct held item) {
  if (held_len == held_cap) {
    held_cap = held_cap ? held_cap * 2 : 256;
    heap = realloc(heap, held_cap * sizeof *heap);
    if (!heap) abort();
  }
  size_t i = held_len++;
  heap[i] = item;
  while (i > 0 && earlier(&heap[i], &heap[(i - 1) / 2])) {
    swap_held(i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
  if (held_len > count.held_max) count.held_max = held_len;
}

static struct held pop_held(void) {
  struct held top = heap[0];
  heap[0] = heap[--held_len];
  for (size_t i = 0;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < held_len && earlier(&heap[l], &heap[m])) m = l;
    if (r < held_len && earlier(&heap[r], &heap[m])) m = r;
    if (m == i) break;
    swap_held(i, m);
    i = m;
  }
  return top;
}

/* Whether a packet of the same flow that came earlier is still held: releasing this one now reorders the flow. */
static int overtakes(const struct held *item) {
  for (size_t i = 0; i < held_len; i++) {
    if (heap[i].flow == item->flow && heap[i].arrival < item->arrival) return 1;
  }
  return 0;
}

static void send_duplicate(const unsigned char *packet, uint32_t len) {
  if (len < 20 || (packet[0] >> 4) != 4) return;
  struct sockaddr_in to = {.sin_family = AF_INET};
  memcpy(&to.sin_addr, packet + 16, 4);
  if (sendto(raw_fd, packet, len, 0, (struct sockaddr *)&to, sizeof to) < 0) count.errors++;
  else count.duplicated++;
}

static void release(struct held *item) {
  if (overtakes(item)) count.overtook++;
  verdict_accept(item->id);
  count.released++;
  if (item->copy) {
    send_duplicate(item->copy, item->copy_len);
    free(item->copy);
  }
}

static void release_due(uint64_t now) {
  while (held_len > 0 && heap[0].due_ns <= now) {
    struct held item = pop_held();
    release(&item);
  }
}

/* Source, destination, protocol and (for TCP and UDP) ports, hashed: what "the same flow" means for overtaking. */
static uint64_t flow_of(const unsigned char *p, uint32_t len) {
  if (len < 20 || (p[0] >> 4) != 4) return 0;
  uint64_t h = 1469598103934665603ull;
  uint32_t ihl = (uint32_t)(p[0] & 15) * 4;
  uint32_t end = (p[9] == IPPROTO_TCP || p[9] == IPPROTO_UDP) && len >= ihl + 4 ? ihl + 4 : 20;
  for (uint32_t i = 9; i < end; i++) {
    if (i >= 10 && i < 12) continue; /* header checksum */
    if (i >= 20 && i < ihl) continue; /* IP options */
    h = (h ^ p[i]) * 1099511628211ull;
  }
  return h;
}

static void hold(uint32_t id, const unsigned char *packet, uint32_t len) {
  static uint64_t arrivals;
  uint64_t now = now_ns();
  double delay = opt.delay_ms;
  if (opt.reorder_pct > 0 && uniform01() * 100.0 < opt.reorder_pct) {
    delay = 0;
    count.early++;
  } else if (opt.jitter_ms > 0) {
    delay += opt.jitter_ms * normal01();
  }
  if (delay < 0) delay = 0;
  struct held item = {.due_ns = now + (uint64_t)(delay * 1e6), .arrival = ++arrivals, .id = id, .flow = flow_of(packet, len)};
  if (opt.duplicate_pct > 0 && packet && uniform01() * 100.0 < opt.duplicate_pct) {
    item.copy = malloc(len);
    if (item.copy) {
      memcpy(item.copy, packet, len);
      item.copy_len = len;
    }
  }
  count.queued++;
  push_held(item);
}

static void on_packet_message(struct nlmsghdr *nlh) {
  struct nlattr *attr = (struct nlattr *)((char *)NLMSG_DATA(nlh) + NLMSG_ALIGN(sizeof(struct nfgenmsg)));
  int left = (int)nlh->nlmsg_len - NLMSG_LENGTH(sizeof(struct nfgenmsg));
  const struct nfqnl_msg_packet_hdr *hdr = NULL;
  const unsigned char *payload = NULL;
  uint32_t payload_len = 0;
  while (left >= NLA_HDRLEN && attr->nla_len >= NLA_HDRLEN && attr->nla_len <= left) {
    void *data = (char *)attr + NLA_HDRLEN;
    switch (attr->nla_type & NLA_TYPE_MASK) {
      case NFQA_PACKET_HDR: hdr = data; break;
      case NFQA_PAYLOAD: payload = data; payload_len = attr->nla_len - NLA_HDRLEN; break;
    }
    left -= NLA_ALIGN(attr->nla_len);
    attr = (struct nlattr *)((char *)attr + NLA_ALIGN(attr->nla_len));
  }
  if (hdr) hold(ntohl(hdr->packet_id), payload, payload_len);
}

static void read_packets(void) {
  static char buf[RECV_BUFFER];
  for (;;) {
    ssize_t got = recv(nl_fd, buf, sizeof buf, MSG_DONTWAIT);
    if (got < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) count.errors++;
      return;
    }
    /* A signed length: the last message of a datagram may be unpadded, so NLMSG_NEXT can take it below zero. */
    int n = (int)got;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) on_packet_message(h);
      else if (h->nlmsg_type == NLMSG_ERROR && ((struct nlmsgerr *)NLMSG_DATA(h))->error != 0) count.errors++;
    }
  }
}

/* ---- counters, setup, main loop ---- */

static void write_counters(void) {
  if (!opt.counters_file) return;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", opt.counters_file);
  FILE *f = fopen(tmp, "w");
  if (!f) return;
  fprintf(f, "{\"queued\":%lu,\"released\":%lu,\"held\":%zu,\"duplicated\":%lu,\"early\":%lu,\"overtook\":%lu,\"heldMax\":%lu,\"errors\":%lu}\n",
          count.queued, count.released, held_len, count.duplicated, count.early, count.overtook, count.held_max, count.errors);
  fclose(f);
  rename(tmp, opt.counters_file);
}

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static void fail(const char *what, int err) {
  fprintf(stderr, "faultline-delayer: %s: %s\n", what, strerror(err));
  exit(1);
}

static double number_arg(const char *flag, const char *text) {
  char *end;
  double value = strtod(text, &end);
  if (*end || !(value >= 0)) {
    fprintf(stderr, "faultline-delayer: %s needs a number >= 0, not %s\n", flag, text);
    exit(2);
  }
  return value;
}

static void parse_options(int argc, char **argv) {
  int c, have_queue = 0;
  while ((c = getopt(argc, argv, "q:d:j:u:r:s:m:p:c:")) != -1) {
    switch (c) {
      case 'q': opt.queue = (uint16_t)number_arg("-q", optarg); have_queue = 1; break;
      case 'd': opt.delay_ms = number_arg("-d", optarg); break;
      case 'j': opt.jitter_ms = number_arg("-j", optarg); break;
      case 'u': opt.duplicate_pct = number_arg("-u", optarg); break;
      case 'r': opt.reorder_pct = number_arg("-r", optarg); break;
      case 's': opt.seed = strtoull(optarg, NULL, 0); break;
      case 'm': opt.mark = (uint32_t)strtoul(optarg, NULL, 0); break;
      case 'p': opt.pidfile = optarg; break;
      case 'c': opt.counters_file = optarg; break;
      default: exit(2);
    }
  }
  if (!have_queue) {
    fprintf(stderr, "usage: faultline-delayer -q QUEUE [-d MS] [-j MS] [-u PCT] [-r PCT] [-s SEED] [-m MARK] [-p PIDFILE] [-c COUNTERS]\n");
    exit(2);
  }
  rng_state = opt.seed ? opt.seed : ((uint64_t)time(NULL) << 16) ^ (uint64_t)getpid();
}

static void open_sockets(void) {
  nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (nl_fd < 0) fail("netlink socket", errno);
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (bind(nl_fd, (struct sockaddr *)&local, sizeof local) < 0) fail("netlink bind", errno);
  int size = 8 << 20, on = 1;
  if (setsockopt(nl_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) setsockopt(nl_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  /* An overrun loses queue messages, not the socket: carry on (the kernel drops what it could not tell us). */
  setsockopt(nl_fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof on);
  if (opt.duplicate_pct > 0) {
    raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (raw_fd < 0) fail("raw socket for duplicates", errno);
    if (setsockopt(raw_fd, SOL_SOCKET, SO_MARK, &opt.mark, sizeof opt.mark) < 0) fail("marking duplicates (SO_MARK)", errno);
  }
}

static void bind_queue(void) {
  struct nfqnl_msg_config_cmd bind_cmd = {.command = NFQNL_CFG_CMD_BIND, .pf = htons(AF_INET)};
  int err = configure(NFQA_CFG_CMD, &bind_cmd, sizeof bind_cmd);
  if (err) fail("binding the queue (is another delayer running?)", -err);
  struct nfqnl_msg_config_params params = {.copy_range = htonl(0xffff), .copy_mode = NFQNL_COPY_PACKET};
  if ((err = configure(NFQA_CFG_PARAMS, &params, sizeof params))) fail("setting copy mode", -err);
  uint32_t maxlen = htonl(QUEUE_MAXLEN);
  if ((err = configure(NFQA_CFG_QUEUE_MAXLEN, &maxlen, sizeof maxlen))) fail("setting the queue length", -err);
  /* A full queue lets packets through rather than dropping them: this is a delay, not a loss. */
  uint32_t flags = htonl(NFQA_CFG_F_FAIL_OPEN), mask = htonl(NFQA_CFG_F_FAIL_OPEN);
  char buf[256];
  struct nlmsghdr *nlh = message(buf, NFQNL_MSG_CONFIG, 0);
  attribute(nlh, NFQA_CFG_FLAGS, &flags, sizeof flags);
  attribute(nlh, NFQA_CFG_MASK, &mask, sizeof mask);
  send_message(nlh);
}

/* The parent writes the pidfile and exits 0, so the caller's exec ends once the queue is served. */
static void daemonize(void) {
  pid_t pid = fork();
  if (pid < 0) fail("fork", errno);
  if (pid > 0) {
    if (opt.pidfile) {
      FILE *f = fopen(opt.pidfile, "w");
      if (!f) {
        kill(pid, SIGKILL);
        fail("writing the pidfile", errno);
      }
      fprintf(f, "%d\n", (int)pid);
      fclose(f);
    }
    printf("%d\n", (int)pid);
    exit(0);
  }
  setsid();
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) close(null);
  }
}

int main(int argc, char **argv) {
  parse_options(argc, argv);
  sigset_t blocked, during_wait;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGINT);
  sigprocmask(SIG_BLOCK, &blocked, &during_wait);
  sigdelset(&during_wait, SIGTERM);
  sigdelset(&during_wait, SIGINT);
  struct sigaction action = {.sa_handler = on_signal};
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  open_sockets();
  bind_queue();
  daemonize();
  write_counters();
  uint64_t last_written = now_ns();
  while (!stopping) {
    uint64_t now = now_ns();
    release_due(now);
    if (now - last_written >= COUNTERS_EVERY_NS) {
      write_counters();
      last_written = now;
    }
    struct timespec wait = {.tv_sec = 0, .tv_nsec = 200000000};
    if (held_len > 0) {
      uint64_t until = heap[0].due_ns > now ? heap[0].due_ns - now : 0;
      if (until < 200000000ull) wait.tv_nsec = (long)until;
    }
    struct pollfd pfd = {.fd = nl_fd, .events = POLLIN};
    /* Signals are let in only while waiting, so a SIGTERM never slips between the check and the wait. */
    int ready = ppoll(&pfd, 1, &wait, &during_wait);
    if (ready > 0) read_packets();
  }
  /* Stopping: every held packet, and any the kernel queued meanwhile, goes out now: none is lost to the heal. */
  read_packets();
  while (held_len > 0) {
    struct held item = pop_held();
    release(&item);
  }
  write_counters();
  if (opt.pidfile) unlink(opt.pidfile);
  return 0;
}
