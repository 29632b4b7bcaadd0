/*
 * cold-write: what one small system call costs right after a big copy, on the
 * machine it runs on. The lecture's dd table has one write(2) to /dev/null, made
 * right after a 10 MiB read(2), at three times the cost of the other small calls;
 * this probe measures how much of such a gap a cold cache and TLB can make on a
 * real machine.
 *
 * For each copy size it repeats: read(/dev/zero, buf, size); write(/dev/null,
 * buf, size) (timed: the "cold" call, after the copy); write again (timed: the
 * "warm" call). null_write never touches the buffer, so both writes run the
 * same kernel path; only what the copy evicted differs. Then the same with the
 * null system call, getppid(2): read the copy again, time getppid, time it again.
 * Times are medians of `repeats` rounds, from clock_gettime(CLOCK_MONOTONIC)
 * (the vDSO: no syscall).
 *
 * Build and run:  cc -O2 -o cold-write calibration/probes/cold-write.c
 *                 ./cold-write [repeats [copy bytes...]]   (prints one JSON object)
 * The default copies are 64 KiB, 1, 10, 64 and 256 MiB. l41sim reads each copy's
 * penalty against the 64 KiB row, so a run it reads includes 65536.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Linux moves at most this much in one read(2) or write(2) (MAX_RW_COUNT). */
#define MAX_RW ((long long)0x7ffff000)

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, n, sizeof *v, by_value);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
  static const size_t defaults[] = {64 << 10, 1 << 20, 10 << 20, 64 << 20, 256 << 20};
  size_t sizes[16];
  int nsizes = 0;
  char *end = "";
  long repeats = argc > 1 ? strtol(argv[1], &end, 10) : 50;
  if (*end != '\0' || repeats < 1 || repeats > 100000) {
    fprintf(stderr, "cold-write: repeats must be an integer from 1 to 100000\n");
    return 2;
  }
  if (argc > 18) {
    fprintf(stderr, "cold-write: at most 16 copy sizes\n");
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    char *end;
    long long v = strtoll(argv[i], &end, 10);
    if (*end != '\0' || v < 1 || v > MAX_RW) {
      fprintf(stderr, "cold-write: copy size '%s' is not a byte count from 1 to %lld (one read(2))\n", argv[i], MAX_RW);
      return 2;
    }
    sizes[nsizes++] = (size_t)v;
  }
  if (nsizes == 0)
    for (; nsizes < (int)(sizeof defaults / sizeof defaults[0]); nsizes++) sizes[nsizes] = defaults[nsizes];
  size_t max = 0;
  for (int i = 0; i < nsizes; i++)
    if (sizes[i] > max) max = sizes[i];
  char *buf = malloc(max);
  double *cold = malloc(repeats * sizeof *cold), *warm = malloc(repeats * sizeof *warm);
  double *cold_null = malloc(repeats * sizeof *cold_null), *warm_null = malloc(repeats * sizeof *warm_null);
  int zero = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_WRONLY);
  if (!buf || !cold || !warm || !cold_null || !warm_null || zero < 0 || null < 0) {
    perror("cold-write");
    return 1;
  }
  memset(buf, 1, max); /* fault the buffer in first: no page faults in the timed rounds */
  printf("{\"repeats\": %ld, \"rows\": [", repeats);
  for (int s = 0; s < nsizes; s++) {
    for (long i = 0; i < repeats; i++) {
      if (read(zero, buf, sizes[s]) != (ssize_t)sizes[s]) return perror("read"), 1;
      double a = now_ns();
      if (write(null, buf, sizes[s]) != (ssize_t)sizes[s]) return perror("write"), 1;
      double b = now_ns();
      if (write(null, buf, sizes[s]) != (ssize_t)sizes[s]) return perror("write"), 1;
      double c = now_ns();
      cold[i] = b - a;
      warm[i] = c - b;
      if (read(zero, buf, sizes[s]) != (ssize_t)sizes[s]) return perror("read"), 1;
      a = now_ns();
      syscall(SYS_getppid);
      b = now_ns();
      syscall(SYS_getppid);
      c = now_ns();
      cold_null[i] = b - a;
      warm_null[i] = c - b;
    }
    printf("%s\n  {\"copy_bytes\": %zu, \"cold_write_ns\": %.0f, \"warm_write_ns\": %.0f, \"cold_getppid_ns\": %.0f, \"warm_getppid_ns\": %.0f}",
           s ? "," : "", sizes[s], median(cold, repeats), median(warm, repeats), median(cold_null, repeats), median(warm_null, repeats));
  }
  printf("\n]}\n");
  return 0;
}
