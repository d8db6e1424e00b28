/* Prints its arguments, the environment variables named in CLJIT_SHOW
 * (comma-separated) or the number of variables, then copies stdin to stdout.
 * Used to check how `cljit run` passes argv, the environment and stdio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv) {
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    int count = 0;
    for (char **e = environ; *e; e++) count++;
    printf("envc=%d\n", count);
    const char *show = getenv("CLJIT_SHOW");
    if (show) {
        char names[256];
        strncpy(names, show, sizeof names - 1);
        names[sizeof names - 1] = 0;
        for (char *n = strtok(names, ","); n; n = strtok(NULL, ",")) {
            const char *v = getenv(n);
            printf("%s=%s\n", n, v ? v : "(unset)");
        }
    }
    char buf[256];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) fwrite(buf, 1, n, stdout);
    fprintf(stderr, "to stderr\n");
    return 0;
}
