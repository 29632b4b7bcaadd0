/*
 * cache-geometry: the data caches of the machine it runs on, and the rate at which its
 * kernel zeroes and copies through each of them, measured rather than read from /sys
 * (which a VM may not have). For each working-set size:
 *
 * - load_ns: a dependent load (a pointer chase over every line of the working set).
 *   Pages are visited in a random order and the lines of each page in a random order,
 *   so neither the stride prefetchers nor the TLB (one miss per page, not per line)
 *   hide the level that serves the loads. Where it steps up, a cache is full: the
 *   sizes of the levels, and each level's latency.
 * - zero_ns: one read(2) of that many bytes from /dev/zero into a resident buffer: the
 *   kernel's read_zero, clear_user a page at a time, as the model runs it. The buffer
 *   stays where it fits.
 * - copy_ns: one pread(2) of that many bytes of a cached file into a resident buffer:
 *   filemap_read's copy_to_user a page at a time (the working set is the file's pages
 *   and the buffer, twice the size).
 * Each is the median and the lowest of `repeats` timed passes of at least `pass us`
 * (after one untimed pass), per load or per call, from clock_gettime(CLOCK_MONOTONIC)
 * (the vDSO: no system call).
 *
 * Build and run:  cc -O2 -o cache-geometry calibration/probes/cache-geometry.c
 *                 ./cache-geometry [repeats [max KiB [sizes per doubling [pass us [dir]]]]]
 * (prints one JSON object). Defaults: 5 repeats, working sets from 4 KiB to 64 MiB,
 * four sizes per doubling, passes of at least 1 ms, the file in $TMPDIR or /tmp.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define LINE 64
#define MAX_REPEATS 101

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_random(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void shuffle(size_t *v, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = next_random() % i;
    size_t t = v[i - 1];
    v[i - 1] = v[j];
    v[j] = t;
  }
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Link every line of buf[0, bytes) into one cycle: pages in random order, lines of a page in random order. */
static void build_chase(char *buf, size_t bytes, size_t page) {
  size_t lines_per_page = page / LINE;
  size_t pages = bytes / page;
  if (pages == 0) {
    pages = 1;
    lines_per_page = bytes / LINE;
  }
  size_t n = pages * lines_per_page;
  size_t *porder = malloc(pages * sizeof *porder);
  size_t *lorder = malloc(lines_per_page * sizeof *lorder);
  size_t *order = malloc(n * sizeof *order);
  if (!porder || !lorder || !order) {
    fprintf(stderr, "cache-geometry: out of memory\n");
    exit(1);
  }
  for (size_t p = 0; p < pages; p++) porder[p] = p;
  shuffle(porder, pages);
  size_t k = 0;
  for (size_t p = 0; p < pages; p++) {
    for (size_t l = 0; l < lines_per_page; l++) lorder[l] = l;
    shuffle(lorder, lines_per_page);
    for (size_t l = 0; l < lines_per_page; l++) order[k++] = porder[p] * (lines_per_page * LINE) + lorder[l] * LINE;
  }
  for (size_t i = 0; i < n; i++) *(char **)(buf + order[i]) = buf + order[(i + 1) % n];
  free(order);
  free(lorder);
  free(porder);
}

static char *volatile sink;

/* The k-th root of 2 (the step between sizes), by bisection: the probe builds without -lm. */
static double root_of_two(long k) {
  double lo = 1, hi = 2;
  for (int i = 0; i < 60; i++) {
    double mid = (lo + hi) / 2, p = 1;
    for (long j = 0; j < k; j++) p *= mid;
    if (p < 2) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

struct timing {
  double median, min;
};

static struct timing summarise(double *v, int n) {
  qsort(v, n, sizeof *v, by_value);
  struct timing t = {n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v[0]};
  return t;
}

/* Median and lowest ns per unit over `repeats` passes of `units` each (one untimed pass first). */
#define TIMED(out, repeats, units, body)                   \
  do {                                                     \
    double v_[MAX_REPEATS];                                \
    for (int r_ = -1; r_ < (repeats); r_++) {              \
      double t0_ = now_ns();                               \
      body;                                                \
      double t_ = (now_ns() - t0_) / (double)(units);      \
      if (r_ >= 0) v_[r_] = t_;                            \
    }                                                      \
    (out) = summarise(v_, (repeats));                      \
  } while (0)

static long arg(int argc, char **argv, int i, long dflt, long lo, long hi, const char *what) {
  if (argc <= i) return dflt;
  char *end = "";
  long v = strtol(argv[i], &end, 10);
  if (*end != '\0' || v < lo || v > hi) {
    fprintf(stderr, "cache-geometry: %s must be an integer from %ld to %ld\n", what, lo, hi);
    exit(2);
  }
  return v;
}

/* Calls of `call` so that a pass takes about `pass_ns`, from the time of one. */
static size_t calls_for(double one_ns, double pass_ns) {
  size_t n = (size_t)(pass_ns / (one_ns > 1 ? one_ns : 1));
  return n < 1 ? 1 : n;
}

/* One read(2) of `bytes` from fd into buf, or pread(2) from offset 0 when `positional`. */
static ssize_t one_read(int fd, char *buf, size_t bytes, int positional) {
  return positional ? pread(fd, buf, bytes, 0) : read(fd, buf, bytes);
}

/* Median and lowest ns per read of `bytes` from fd into buf (passes of about pass_ns). */
static struct timing time_reads(int fd, char *buf, size_t bytes, int positional, int repeats, double pass_ns, const char *what) {
  double t0 = now_ns();
  if (one_read(fd, buf, bytes, positional) != (ssize_t)bytes) {
    perror(what);
    exit(1);
  }
  size_t calls = calls_for(now_ns() - t0, pass_ns);
  struct timing t;
  TIMED(t, repeats, calls, {
    for (size_t i = 0; i < calls; i++)
      if (one_read(fd, buf, bytes, positional) != (ssize_t)bytes) exit(1);
  });
  return t;
}

int main(int argc, char **argv) {
  int repeats = (int)arg(argc, argv, 1, 5, 1, MAX_REPEATS, "repeats");
  size_t max_bytes = (size_t)arg(argc, argv, 2, 64 * 1024, 8, 4 * 1024 * 1024, "max KiB") * 1024;
  long per_doubling = arg(argc, argv, 3, 4, 1, 16, "sizes per doubling");
  double pass_ns = arg(argc, argv, 4, 1000, 10, 10000000, "pass us") * 1000.0;
  const char *dir = argc > 5 ? argv[5] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  size_t page = (size_t)sysconf(_SC_PAGESIZE);

  char *buf = mmap(NULL, max_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf == MAP_FAILED) {
    perror("cache-geometry: mmap");
    return 1;
  }
  memset(buf, 1, max_bytes); /* every page resident before anything is timed */
  int zero = open("/dev/zero", O_RDONLY);
  if (zero < 0) {
    perror("cache-geometry: /dev/zero");
    return 1;
  }
  /* A file of max_bytes, written once: its pages stay in the page cache. Unlinked at once. */
  char path[4096];
  snprintf(path, sizeof path, "%s/cache-geometry-XXXXXX", dir);
  int file = mkstemp(path);
  if (file < 0) {
    perror("cache-geometry: a temporary file");
    return 1;
  }
  unlink(path);
  for (size_t off = 0; off < max_bytes;) {
    ssize_t n = pwrite(file, buf + off, max_bytes - off, (off_t)off);
    if (n <= 0) {
      perror("cache-geometry: writing the temporary file");
      return 1;
    }
    off += (size_t)n;
  }

  printf("{\"line_bytes\": %d, \"page_bytes\": %zu, \"repeats\": %d, \"pass_us\": %.0f, \"points\": [", LINE, page, repeats, pass_ns / 1000);
  double step = root_of_two(per_doubling);
  int first = 1;
  for (long i = 0;; i++) {
    /* Exact powers of two every per_doubling sizes, and per_doubling - 1 sizes between. */
    double s = 4096.0 * (double)(1L << (i / per_doubling));
    for (long j = 0; j < i % per_doubling; j++) s *= step;
    if (s > (double)max_bytes + 1) break;
    size_t bytes = ((size_t)(s + 0.5) / LINE) * LINE;
    size_t lines = bytes / LINE;

    build_chase(buf, bytes, page);
    char *p = buf;
    double t0 = now_ns();
    for (size_t i = 0; i < lines; i++) { /* untimed: every line once, and the time a load takes */
      p = *(char **)p;
      __asm__ volatile("" : "+r"(p));
    }
    size_t loads = calls_for((now_ns() - t0) / lines, pass_ns);
    if (loads < lines) loads = lines;
    struct timing load;
    TIMED(load, repeats, loads, {
      for (size_t i = 0; i < loads; i++) {
        p = *(char **)p;
        __asm__ volatile("" : "+r"(p)); /* each load depends on the last, and none is left out */
      }
    });
    sink = p;

    struct timing zero_t = time_reads(zero, buf, bytes, 0, repeats, pass_ns, "cache-geometry: read /dev/zero");
    struct timing copy_t = time_reads(file, buf, bytes, 1, repeats, pass_ns, "cache-geometry: read the temporary file");

    printf("%s\n  {\"bytes\": %zu, \"load_ns\": [%.3f, %.3f], \"zero_ns\": [%.1f, %.1f], \"copy_ns\": [%.1f, %.1f]}", first ? "" : ",", bytes, load.median, load.min, zero_t.median,
           zero_t.min, copy_t.median, copy_t.min);
    first = 0;
    fflush(stdout);
  }
  printf("\n]}\n");
  return 0;
}
