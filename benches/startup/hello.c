/* The smallest useful WASI program: process start-up, compilation and
 * instantiation dominate its time. */
#include <stdio.h>

int main(void) {
    puts("hello");
    return 0;
}
