/*
 * The media bench's baseline: the least an SFU must do per packet. One thread, poll() over
 * one UDP socket per participant; every packet received from participant i is sent with
 * sendto() to the sink once per other participant and stream consumer (the fan-out count
 * given), the same number of copies the SFU sends. No RTP parsing, no SRTP, no congestion
 * control, no stats.
 *
 *   forwarder <participants> <copies per packet> <sink port>
 *
 * Prints "READY <port>,<port>,..." and then, for every line read on stdin, the number of
 * packets sent so far.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: forwarder <participants> <copies> <sink port>\n");
    return 2;
  }
  int n = atoi(argv[1]), copies = atoi(argv[2]), sink_port = atoi(argv[3]);
  struct pollfd *fds = calloc((size_t)n + 1, sizeof *fds);
  struct sockaddr_in sink = {.sin_family = AF_INET, .sin_port = htons((unsigned short)sink_port)};
  inet_pton(AF_INET, "127.0.0.1", &sink.sin_addr);
  printf("READY ");
  for (int i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int size = 4 * 1024 * 1024;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) return 1;
    socklen_t len = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &len);
    printf(i ? ",%d" : "%d", ntohs(addr.sin_port));
    fds[i].fd = fd;
    fds[i].events = POLLIN;
  }
  printf("\n");
  fflush(stdout);
  fds[n].fd = 0;
  fds[n].events = POLLIN;
  unsigned long long sent = 0;
  char packet[2048], line[64];
  for (;;) {
    if (poll(fds, (nfds_t)n + 1, -1) < 0) continue;
    for (int i = 0; i < n; i++) {
      if (!(fds[i].revents & POLLIN)) continue;
      ssize_t got;
      while ((got = recv(fds[i].fd, packet, sizeof packet, MSG_DONTWAIT)) > 0) {
        for (int c = 0; c < copies; c++) {
          sendto(fds[i].fd, packet, (size_t)got, 0, (struct sockaddr *)&sink, sizeof sink);
          sent++;
        }
      }
    }
    if (fds[n].revents & (POLLIN | POLLHUP)) {
      if (!fgets(line, sizeof line, stdin)) return 0;
      printf("%llu\n", sent);
      fflush(stdout);
    }
  }
}
