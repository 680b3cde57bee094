/*
 * The floor of bench/rpc: ping-pong over one established TLS 1.3 connection with mutual
 * authentication on loopback. Each round trip is a 4-byte big-endian length and 100 bytes one
 * way and the same back; TCP_NODELAY on both sides. The server is a forked child process.
 *
 *   tls_pingpong CERTS_DIR ROUNDS WARMUP_ROUNDS [plain]
 *
 * Uses CERTS_DIR/ca.pem, knowledge.pem/.key (server) and load.pem/.key (client). With `plain`
 * the same exchange runs over bare TCP, without TLS: what the kernel and the wake-ups alone
 * cost. Prints one JSON line: rounds, round_trips_per_s, p50_us, p99_us.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 100
#define FRAME (4 + PAYLOAD)

static void die(const char *what) {
  fprintf(stderr, "tls_pingpong: %s\n", what);
  ERR_print_errors_fp(stderr);
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static SSL_CTX *make_ctx(int server, const char *dir, const char *name) {
  char cert[4096], key[4096], ca[4096];
  snprintf(cert, sizeof cert, "%s/%s.pem", dir, name);
  snprintf(key, sizeof key, "%s/%s.key", dir, name);
  snprintf(ca, sizeof ca, "%s/ca.pem", dir);
  SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!ctx) die("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) die("certificate");
  if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) die("private key");
  if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) die("trust roots");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                     NULL);
  return ctx;
}

/* Set in plain mode: the socket this process reads and writes without TLS. */
static int plain_fd = -1;

/* Reads up to length bytes: SSL_read, or read(2) in plain mode. */
static int read_some(SSL *ssl, unsigned char *buffer, int length) {
  if (plain_fd >= 0) return (int)read(plain_fd, buffer, (size_t)length);
  return SSL_read(ssl, buffer, length);
}

static void read_full(SSL *ssl, unsigned char *buffer, int length) {
  int done = 0;
  while (done < length) {
    int n = read_some(ssl, buffer + done, length - done);
    if (n <= 0) die("read");
    done += n;
  }
}

static void write_full(SSL *ssl, const unsigned char *buffer, int length) {
  if (plain_fd >= 0) {
    if (write(plain_fd, buffer, (size_t)length) != length) die("write");
    return;
  }
  if (SSL_write(ssl, buffer, length) != length) die("SSL_write");
}

static void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Starts this side's session on a connected socket: TLS as server or client, or in plain
 * mode none (NULL), the socket then read and written directly. */
static SSL *start_session(int fd, int server, const char *dir, int plain) {
  set_nodelay(fd);
  if (plain) {
    plain_fd = fd;
    return NULL;
  }
  SSL *ssl = SSL_new(make_ctx(server, dir, server ? "knowledge" : "load"));
  SSL_set_fd(ssl, fd);
  if ((server ? SSL_accept(ssl) : SSL_connect(ssl)) != 1) die("TLS handshake");
  return ssl;
}

static void serve(int listener, const char *dir, int plain) {
  int fd = accept(listener, NULL, NULL);
  if (fd < 0) die("accept");
  SSL *ssl = start_session(fd, 1, dir, plain);
  unsigned char frame[FRAME];
  for (;;) {
    int n = read_some(ssl, frame, 4);
    if (n <= 0) break;
    if (n < 4) read_full(ssl, frame + n, 4 - n);
    uint32_t length = ((uint32_t)frame[0] << 24) | ((uint32_t)frame[1] << 16) |
                      ((uint32_t)frame[2] << 8) | frame[3];
    if (length != PAYLOAD) die("unexpected length");
    read_full(ssl, frame + 4, PAYLOAD);
    write_full(ssl, frame, FRAME);
  }
  if (ssl) SSL_free(ssl);
  close(fd);
  exit(0);
}

static int compare(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int plain = argc == 5 && strcmp(argv[4], "plain") == 0;
  if (argc != 4 && !plain) {
    fprintf(stderr, "usage: tls_pingpong CERTS_DIR ROUNDS WARMUP_ROUNDS [plain]\n");
    return 2;
  }
  const char *dir = argv[1];
  long rounds = atol(argv[2]), warmup = atol(argv[3]);
  if (rounds <= 0 || warmup < 0) die("bad round counts");

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = {.sin_family = AF_INET};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0) die("bind");
  if (listen(listener, 1) != 0) die("listen");
  socklen_t size = sizeof address;
  getsockname(listener, (struct sockaddr *)&address, &size);

  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) serve(listener, dir, plain);
  close(listener);

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) die("connect");
  SSL *ssl = start_session(fd, 0, dir, plain);

  unsigned char out[FRAME], in[FRAME];
  out[0] = 0, out[1] = 0, out[2] = 0, out[3] = PAYLOAD;
  for (int i = 0; i < PAYLOAD; i++) out[4 + i] = (unsigned char)(i * 7 + 1);
  uint64_t *samples = malloc(sizeof(uint64_t) * (size_t)rounds);
  if (!samples) die("malloc");

  for (long i = 0; i < warmup; i++) {
    write_full(ssl, out, FRAME);
    read_full(ssl, in, FRAME);
  }
  uint64_t begin = now_ns();
  for (long i = 0; i < rounds; i++) {
    uint64_t start = now_ns();
    write_full(ssl, out, FRAME);
    read_full(ssl, in, FRAME);
    samples[i] = now_ns() - start;
  }
  double seconds = (double)(now_ns() - begin) / 1e9;
  if (memcmp(in, out, FRAME) != 0) die("echo mismatch");

  if (ssl) SSL_shutdown(ssl);
  close(fd);
  waitpid(child, NULL, 0);

  qsort(samples, (size_t)rounds, sizeof samples[0], compare);
  long p50 = (rounds + 1) / 2 - 1, p99 = (long)((double)rounds * 0.99 + 0.999999) - 1;
  if (p99 < 0) p99 = 0;
  printf("{\"rounds\": %ld, \"seconds\": %.3f, \"round_trips_per_s\": %.1f, "
         "\"p50_us\": %.1f, \"p99_us\": %.1f}\n",
         rounds, seconds, (double)rounds / seconds, (double)samples[p50] / 1000.0,
         (double)samples[p99] / 1000.0);
  return 0;
}
