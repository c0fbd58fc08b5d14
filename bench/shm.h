/* shm.h: the scoreboard that the bench's processes share (a file under /dev/shm mapped
 * by every load-client process, the publisher and the runner). Clients count every
 * notification by the publish sequence number carried in its item id ("b<seq>"); the
 * publisher writes when it sent each publish; the runner reads the totals. Offsets are
 * fixed: bench/run reads the header with Python's struct module (see SHM_HEADER in run). */
#ifndef BENCH_SHM_H
#define BENCH_SHM_H

#include <stdint.h>

#define BENCH_SHM_MAGIC 0x62656e6368736d31ULL /* "benchsm1" */
#define BENCH_MAX_SEQ 8192

struct bench_shm {
	uint64_t magic;
	/* header: written by clients (atomically), read by the runner */
	uint32_t online;        /* sessions established (presence sent) */
	uint32_t disconnects;   /* sessions lost after being established */
	uint32_t login_failed;  /* connection attempts that never got online */
	uint32_t sub_ok;        /* subscribe results */
	uint32_t sub_err;       /* subscribe errors and timeouts */
	uint32_t sub_cmd;       /* the runner bumps it: every client subscribes once more */
	uint64_t sub_first_ns;  /* CLOCK_MONOTONIC of the first subscribe request sent */
	uint64_t sub_last_ns;   /* ... of the last subscribe answer received */
	uint64_t received;      /* notifications received, first copies only */
	uint64_t dups;          /* notifications received again by the same client */
	uint64_t unexpected;    /* messages that are not bench notifications, or out of range */
	char service[128];      /* where to subscribe */
	char node[64];
	uint64_t reserved[8];
	/* per publish sequence number */
	uint64_t pub_ns[BENCH_MAX_SEQ];   /* when the publisher sent it */
	uint32_t count[BENCH_MAX_SEQ];    /* clients that received it (first copies) */
	uint64_t first_ns[BENCH_MAX_SEQ]; /* first receipt, any client */
	uint64_t last_ns[BENCH_MAX_SEQ];  /* last receipt, any client */
};

#endif
