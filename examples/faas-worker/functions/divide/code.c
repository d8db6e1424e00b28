/* 1000 divided by the number in the payload: "0" makes the division trap
 * (wasm's i32.div_s traps on zero). */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  char text[32] = {0};
  fread(text, 1, sizeof text - 1, stdin);
  volatile int divisor = atoi(text);
  printf("%d\n", 1000 / divisor);
  return 0;
}
