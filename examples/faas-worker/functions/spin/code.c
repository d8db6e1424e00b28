/* Never finishes: the worker's time or fuel limit must stop it. */
int main(void) {
  volatile unsigned long n = 0;
  for (;;) n++;
}
