/*
 * cli-link.c: the CLI's blocking connection to a holder socket.
 */
#include "common/compat.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/err.h"

int
cli_link_open(struct cli_link *l, const char *sock)
{
	struct sockaddr_un sa;
	int fd;

	l->fd = -1;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof sa.sun_path)
		return -ERR_INVAL;
	memcpy(sa.sun_path, sock, strlen(sock));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_from_errno(errno);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -ERR_CONNECT;
	}
	l->fd = fd;
	proto_decoder_init(&l->dec, PROTO_MAX_PAYLOAD);
	return 0;
}

void
cli_link_set_timeout(struct cli_link *l, int seconds)
{
	struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};

	setsockopt(l->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(l->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void
cli_link_close(struct cli_link *l)
{
	if (l->fd < 0)
		return;
	close(l->fd);
	proto_decoder_release(&l->dec);
	l->fd = -1;
}

int
cli_link_send(struct cli_link *l, enum proto_type type, const void *data, size_t len)
{
	unsigned char hdr[PROTO_HDR_LEN];
	struct iovec iov[2];
	size_t off = 0, total = PROTO_HDR_LEN + len;
	ssize_t n;

	proto_header_encode(hdr, type, len);
	while (off < total) {
		int cnt = 0;

		if (off < PROTO_HDR_LEN) {
			iov[cnt].iov_base = hdr + off;
			iov[cnt++].iov_len = PROTO_HDR_LEN - off;
			iov[cnt].iov_base = (void *)data;
			iov[cnt++].iov_len = len;
		} else {
			iov[cnt].iov_base = (char *)data + (off - PROTO_HDR_LEN);
			iov[cnt++].iov_len = total - off;
		}
		n = writev(l->fd, iov, cnt);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -ERR_IO;
		off += (size_t)n;
	}
	return 0;
}

int
cli_link_hello(struct cli_link *l, uint32_t flags, int cols, int rows)
{
	unsigned char p[12];

	proto_put32(p, PROTO_VERSION);
	proto_put32(p + 4, flags);
	proto_put16(p + 8, (uint16_t)cols);
	proto_put16(p + 10, (uint16_t)rows);
	return cli_link_send(l, PROTO_HELLO, p, sizeof p);
}

int
cli_link_fill(struct cli_link *l)
{
	unsigned char *space;
	size_t avail;
	ssize_t n;

	space = proto_decoder_space(&l->dec, &avail);
	if (avail == 0)
		return -ERR_PROTO;
	do
		n = read(l->fd, space, avail);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -ERR_CONNECT : -ERR_IO; /* EAGAIN: the timeout passed */
	proto_decoder_fill(&l->dec, (size_t)n);
	return (int)n;
}

int
cli_link_recv(struct cli_link *l, struct proto_frame *f, const char **cause)
{
	int rc;

	for (;;) {
		rc = proto_decoder_next(&l->dec, f, cause);
		if (rc != 0)
			return rc;
		rc = cli_link_fill(l);
		if (rc == 0)
			return 0;
		if (rc < 0) {
			*cause = "connection to the holder failed";
			return rc;
		}
	}
}
