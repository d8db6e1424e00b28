/* Writes as many mebibytes of 'x' as the payload says, then "end". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  char text[32] = {0};
  fread(text, 1, sizeof text - 1, stdin);
  int mib = atoi(text);
  static char block[1 << 16];
  memset(block, 'x', sizeof block);
  for (int i = 0; i < mib * 16; i++) fwrite(block, 1, sizeof block, stdout);
  printf("end\n");
  return 0;
}
