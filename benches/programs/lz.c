/* LZ77-style compression with a hash of 4-byte prefixes, then
 * decompression and a round-trip check, over generated text. Size: passes
 * over a 4 MiB input. */
#include <string.h>
#include "bench.h"

#define N (4 << 20)
#define HBITS 16
static uint8_t in[N], comp[N + N / 8 + 16], out[N];
static uint32_t table[1 << HBITS];

static uint32_t hash4(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return (v * 2654435761u) >> (32 - HBITS);
}

/* Format: a control byte; 0..127 = that many+1 literals follow; 128+len-4
 * = a match of len (4..131) with a 16-bit distance. */
static size_t compress(const uint8_t *src, size_t n, uint8_t *dst) {
    size_t i = 0, o = 0, lit = 0;
    memset(table, 0, sizeof table);
    while (i + 4 <= n) {
        uint32_t hsh = hash4(src + i);
        uint32_t cand = table[hsh];
        table[hsh] = (uint32_t)i;
        if (cand < i && i - cand < 65536 && memcmp(src + cand, src + i, 4) == 0) {
            size_t len = 4;
            while (i + len < n && len < 131 && src[cand + len] == src[i + len]) len++;
            while (lit) { size_t k = lit > 128 ? 128 : lit; dst[o++] = (uint8_t)(k - 1);
                memcpy(dst + o, src + i - lit, k); o += k; lit -= k; }
            dst[o++] = (uint8_t)(128 + len - 4);
            dst[o++] = (uint8_t)(i - cand);
            dst[o++] = (uint8_t)((i - cand) >> 8);
            i += len;
        } else {
            i++;
            lit++;
        }
    }
    lit += n - i;
    i = n;
    while (lit) { size_t k = lit > 128 ? 128 : lit; dst[o++] = (uint8_t)(k - 1);
        memcpy(dst + o, src + i - lit, k); o += k; lit -= k; }
    return o;
}

static size_t decompress(const uint8_t *src, size_t n, uint8_t *dst) {
    size_t i = 0, o = 0;
    while (i < n) {
        uint8_t c = src[i++];
        if (c < 128) {
            memcpy(dst + o, src + i, c + 1u);
            i += c + 1u;
            o += c + 1u;
        } else {
            size_t len = c - 128u + 4, dist = src[i] | (size_t)src[i + 1] << 8;
            i += 2;
            for (size_t k = 0; k < len; k++, o++) dst[o] = dst[o - dist];
        }
    }
    return o;
}

int main(int argc, char **argv) {
    long passes = bench_size(argc, argv, 40);
    static const char *words[] = {"the ", "quick ", "brown ", "fox ", "jumps ", "over ",
        "lazy ", "dog ", "and ", "runs ", "away ", "from ", "a ", "wasm ", "engine ", "\n"};
    size_t n = 0;
    while (n < N) {
        const char *w = words[bench_rand() % 16];
        size_t l = strlen(w);
        if (n + l > N) l = N - n;
        memcpy(in + n, w, l);
        n += l;
        if (bench_rand() % 7 == 0 && n < N) in[n++] = (uint8_t)('A' + bench_rand() % 26);
    }
    uint64_t h = 0;
    for (long p = 0; p < passes; p++) {
        in[p * 7919 % N] ^= 0x20;
        size_t c = compress(in, N, comp);
        size_t d = decompress(comp, c, out);
        if (d != N || memcmp(in, out, N) != 0) { puts("round trip failed"); return 1; }
        h = bench_mix(h, c);
    }
    bench_checksum(h);
    return 0;
}
