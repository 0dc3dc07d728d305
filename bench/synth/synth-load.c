// SPDX-License-Identifier: MIT
//
// Bench only: the load generator of the high-rate path benchmark.
//   synth-load TRACER_PID RATE SECONDS
// Finds the tracer's ring buffer and .bss maps among TRACER_PID's file
// descriptors, loads synth.bpf.c with them, calls getppid(2) RATE times a
// second for SECONDS (paced per millisecond), each call writing one
// synthetic exec record into the tracer's ring, and prints
//   {"rate":R,"seconds":S,"calls":N,"written":W,"dropped":D,"elapsed":E}
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>  // the __u32 family used by the record header

#include "exec_tracer.h"
#include "exec_tracer.skel.h"
#include "synth.skel.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// The first map of `type` among the process's descriptors whose name ends with `suffix`.
static int find_map(int pid, unsigned type, const char *suffix, struct bpf_map_info *info) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
  DIR *dir = opendir(path);
  if (!dir) return -errno;
  struct dirent *entry;
  int found = -ENOENT;
  while (found < 0 && (entry = readdir(dir)) != NULL) {
    char file[320], line[256];
    snprintf(file, sizeof(file), "%s/%s", path, entry->d_name);
    FILE *f = fopen(file, "r");
    if (!f) continue;
    unsigned map_type = 0, map_id = 0;
    while (fgets(line, sizeof(line), f)) {
      sscanf(line, "map_type: %u", &map_type);
      sscanf(line, "map_id: %u", &map_id);
    }
    fclose(f);
    if (map_id == 0 || map_type != type) continue;
    int fd = bpf_map_get_fd_by_id(map_id);
    if (fd < 0) continue;
    __u32 len = sizeof(*info);
    memset(info, 0, len);
    size_t n = strlen(suffix);
    if (bpf_obj_get_info_by_fd(fd, info, &len) == 0 && strlen(info->name) >= n &&
        strcmp(info->name + strlen(info->name) - n, suffix) == 0)
      found = fd;
    else
      close(fd);
  }
  closedir(dir);
  return found;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: synth-load TRACER_PID RATE SECONDS\n");
    return 2;
  }
  int pid = atoi(argv[1]);
  long rate = atol(argv[2]);
  double seconds = atof(argv[3]);
  struct bpf_map_info ring_info, bss_info, rodata_info;
  int ring = find_map(pid, BPF_MAP_TYPE_RINGBUF, "events", &ring_info);
  int bss = find_map(pid, BPF_MAP_TYPE_ARRAY, ".bss", &bss_info);
  int rodata = find_map(pid, BPF_MAP_TYPE_ARRAY, ".rodata", &rodata_info);
  if (ring < 0 || bss < 0 || rodata < 0) {
    fprintf(stderr, "synth-load: no exec-tracer maps in process %d (ring %d, bss %d, rodata %d)\n", pid, ring, bss, rodata);
    return 1;
  }
  // The tracer's wakeup mark, from its read-only data.
  char *ro = calloc(1, rodata_info.value_size);
  __u32 zero = 0;
  if (bpf_map_lookup_elem(rodata, &zero, ro) != 0) {
    fprintf(stderr, "synth-load: cannot read the tracer's .rodata: %s\n", strerror(errno));
    return 1;
  }
  __u64 wakeup_bytes;
  memcpy(&wakeup_bytes, ro + offsetof(struct exec_tracer_bpf__rodata, wakeup_bytes), sizeof(wakeup_bytes));

  struct synth_bpf *skel = synth_bpf__open();
  if (!skel) {
    fprintf(stderr, "synth-load: open failed\n");
    return 1;
  }
  skel->rodata->target_tgid = getpid();
  skel->rodata->idle_offset = offsetof(struct exec_tracer_bpf__bss, consumer_idle);
  skel->rodata->drops_offset = offsetof(struct exec_tracer_bpf__bss, drops);
  skel->rodata->bss_size = bss_info.value_size;
  skel->rodata->wakeup_bytes = wakeup_bytes;
  skel->rodata->getppid_nr = SYS_getppid;
  if (bpf_map__set_value_size(skel->maps.tracer_bss, bss_info.value_size) ||
      bpf_map__reuse_fd(skel->maps.tracer_bss, bss) || bpf_map__reuse_fd(skel->maps.events, ring)) {
    fprintf(stderr, "synth-load: cannot reuse the tracer's maps\n");
    return 1;
  }
  int err = synth_bpf__load(skel);
  if (!err) err = synth_bpf__attach(skel);
  if (err) {
    fprintf(stderr, "synth-load: load/attach failed: %s\n", strerror(-err));
    return 1;
  }

  long calls = 0;
  double start = now(), end = start + seconds;
  for (;;) {
    double t = now();
    if (t >= end) break;
    long due = (long)((t - start) * rate);
    while (calls < due) {
      syscall(SYS_getppid);
      calls++;
    }
    struct timespec pause = {0, 1000000};
    nanosleep(&pause, NULL);
  }
  double elapsed = now() - start;
  printf("{\"rate\":%ld,\"seconds\":%g,\"calls\":%ld,\"written\":%llu,\"dropped\":%llu,\"elapsed\":%.3f}\n", rate,
         seconds, calls, (unsigned long long)skel->bss->written, (unsigned long long)skel->bss->dropped, elapsed);
  synth_bpf__destroy(skel);
  return 0;
}
