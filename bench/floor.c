/*
 * The physical floor of sampling passes: opens, reads to EOF and closes exactly the files (and
 * lists exactly the directories) the agent read, each as often as the agent did, and nothing
 * else. Files are reopened every time, as a naive reader does.
 * usage: floor LIST, where each line of LIST is "F <period> <path>" (a file), "D <period> <path>"
 * (a directory) or "S <period> <path>" (a path whose metadata is looked up), read once every
 * <period> seconds; entries with the same
 * period take turns, so that each second reads about as much.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct entry { char kind; unsigned period, phase; char *path; };

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: floor LIST\n"); return 2; }
  FILE *list = fopen(argv[1], "r");
  if (!list) { perror(argv[1]); return 1; }
  struct entry *entries = NULL;
  size_t n = 0, cap = 0;
  char line[8192];
  while (fgets(line, sizeof line, list)) {
    char kind; unsigned period; char path[8000];
    if (sscanf(line, "%c %u %7999[^\n]", &kind, &period, path) != 3 || period == 0) continue;
    if (n == cap) { cap = cap ? cap * 2 : 1024; entries = realloc(entries, cap * sizeof *entries); }
    entries[n] = (struct entry){ kind, period, (unsigned)(n % period), strdup(path) };
    n++;
  }
  fclose(list);
  static char buf[1 << 16];
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (unsigned long tick = 0;; tick++) {
    for (size_t i = 0; i < n; i++) {
      if (tick % entries[i].period != entries[i].phase) continue;
      if (entries[i].kind == 'S') {
        struct stat st;
        stat(entries[i].path, &st);
      } else if (entries[i].kind == 'D') {
        DIR *d = opendir(entries[i].path);
        if (d) { while (readdir(d)) {} closedir(d); }
      } else {
        int fd = open(entries[i].path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) { while (read(fd, buf, sizeof buf) > 0) {} close(fd); }
      }
    }
    next.tv_sec += 1;
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
  }
}
