// Microbenchmark of the event-driven convolution scatter (`sf_event_conv_scatter_stride1`) on
// visual.conv2's shape: 32 → 32 channels, 14×14, 3×3, padding 1, 512 images, both directions
// (forward sums, weight gradient), µs per image. Inputs are pooled-spike values 0.25–1, either
// uniformly random at a density or stroke-like (short runs, so neighbouring pixels are active
// together, as in the network). Build against the tree's kernel (or an older one, to compare):
//
//   clang -O2 -I Sources/CSpikeKernels/include -I Sources/CSpikeKernels bench/conv_scatter.c \
//         Sources/CSpikeKernels/EventScatter.c -o /tmp/conv_scatter
//   /tmp/conv_scatter [density (0.115) | strokes] [level: 0 baseline, 1 AVX2, 2 AVX-512] [rounds]
//
// It prints the best of the rounds. Not part of the build or the tests (docs/speed.md).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "CSpikeKernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    const int strokes = argc > 1 && strcmp(argv[1], "strokes") == 0;
    const double density = argc > 1 && !strokes ? atof(argv[1]) : 0.115;
    const int level = argc > 2 ? atoi(argv[2]) : 2, rounds = argc > 3 ? atoi(argv[3]) : 4;
    enum { C = 32, H = 14, W = 14, O = 32, K = 3, N = 512, P = H * W };
    const sf_conv_geometry g = {C, H, W, K, 1, H, W, O};
    float *images = malloc(sizeof(float) * N * C * P), *wt = malloc(sizeof(float) * C * K * K * O);
    float *sums = malloc(sizeof(float) * P * O), *dyT = malloc(sizeof(float) * P * O);
    float *dWt = calloc(C * K * K * O, sizeof(float));
    srand(1);
    long nonzero = 0;
    for (int n = 0; n < N; n++) {
        float pattern[P] = {0};
        if (strokes) {                      // four short random walks two pixels wide
            for (int s = 0; s < 4; s++) {
                int y = rand() % H, x = rand() % W;
                for (int step = 0; step < 12; step++) {
                    pattern[y * W + x] = 1;
                    if (x + 1 < W) pattern[y * W + x + 1] = 1;
                    y = (y + rand() % 3 - 1 + H) % H;
                    x = (x + rand() % 3 - 1 + W) % W;
                }
            }
        }
        for (int i = 0; i < C * P; i++) {
            const double p = strokes ? (pattern[i % P] ? 0.33 : 0.02) : density;
            const float v = rand() / (double)RAND_MAX < p ? (float)(1 + rand() % 4) * 0.25f : 0;
            images[(long)n * C * P + i] = v;
            nonzero += v != 0;
        }
    }
    for (int i = 0; i < C * K * K * O; i++) wt[i] = rand() / (float)RAND_MAX - 0.5f;
    for (int i = 0; i < P * O; i++) dyT[i] = rand() / (float)RAND_MAX - 0.5f;
    double forward = 1e9, gradient = 1e9;
    for (int r = 0; r < rounds; r++) {
        const double t0 = now();
        for (int n = 0; n < N; n++) {
            memset(sums, 0, sizeof(float) * P * O);
            sf_event_conv_scatter_stride1(images + (long)n * C * P, &g, wt, sums, SF_SCATTER_TO_PIXELS, level);
        }
        const double t1 = now();
        for (int n = 0; n < N; n++)
            sf_event_conv_scatter_stride1(images + (long)n * C * P, &g, dyT, dWt, SF_SCATTER_TO_TAPS, level);
        const double t2 = now();
        if (t1 - t0 < forward) forward = t1 - t0;
        if (t2 - t1 < gradient) gradient = t2 - t1;
    }
    printf("%s, density %.3f, level %d: forward %.1f µs per image, weight gradient %.1f µs per image\n",
           strokes ? "strokes" : "random", (double)nonzero / ((long)N * C * P), level, forward / N * 1e6,
           gradient / N * 1e6);
    return 0;
}
