// SGEMM throughput of OpenBLAS against oneDNN (Debian's libdnnl-dev, which JITs its kernels
// for the CPU it runs on, AVX-512 included) on the products multimodal training runs at
// batch 32, T = 64, and on a square problem: the measurement behind the README's choice of
// GEMM library (issue 17, item 2). Not part of the build; the bench is run by hand:
//
//   apt-get install libdnnl-dev libopenblas-dev
//   gcc -O2 -o /tmp/gemm_libraries bench/gemm_libraries.c -lopenblas -ldnnl
//   OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 /tmp/gemm_libraries [seconds per shape]
//
// Both libraries get the same row-major C[m, n] = A[m, k]·B[k, n] (or with Bᵀ where training
// multiplies by Wᵀ), the same inputs, one warm-up product each, and print GFLOP/s =
// 2·m·n·k per product / wall seconds, alternating library by library per shape.
#include <cblas.h>
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
    const char *name;
    long m, n, k;
    int transpose_b;
} shape;

// The shapes SpikeFuse calls (Conv2dKernel, SynapticKernel, RecurrentSpikingLinear).
static const shape shapes[] = {
    {"square 2048^3 (peak)", 2048, 2048, 2048, 0},
    {"conv2 dL/dx chunk [32, 288]x[288, 18*196]", 32, 18 * 196, 288, 0},
    {"conv2 im2col [T*B*196, 288]x[288, 32]", 64 * 32 * 196, 32, 288, 0},
    {"fc1 [T*B, 1568]x[128, 1568]^T", 2048, 128, 1568, 1},
    {"audio input [T*B, 512]x[512, 512]^T", 2048, 512, 512, 1},
    {"audio recurrent [B, 512]x[512, 512]^T", 32, 512, 512, 1},
    {"audio recurrent bptt [63*B, 512]x[512, 512]", 63 * 32, 512, 512, 0},
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void product(int library, const shape *s, const float *a, const float *b, float *c) {
    long ldb = s->transpose_b ? s->k : s->n;
    if (library == 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, s->transpose_b ? CblasTrans : CblasNoTrans, (int)s->m, (int)s->n,
                    (int)s->k, 1.0f, a, (int)s->k, b, (int)ldb, 0.0f, c, (int)s->n);
    } else {
        dnnl_status_t status = dnnl_sgemm('N', s->transpose_b ? 'T' : 'N', s->m, s->n, s->k, 1.0f, a, s->k, b, ldb,
                                          0.0f, c, s->n);
        if (status != dnnl_success) { fprintf(stderr, "dnnl_sgemm failed: %d\n", (int)status); exit(1); }
    }
}

static double rate(int library, const shape *s, const float *a, const float *b, float *c, double budget) {
    product(library, s, a, b, c);
    double start = now(), elapsed;
    long count = 0;
    do { product(library, s, a, b, c); count++; } while ((elapsed = now() - start) < budget);
    return 2.0 * s->m * s->n * s->k * count / elapsed / 1e9;
}

int main(int argc, char **argv) {
    double budget = argc > 1 ? atof(argv[1]) : 2.0;
    const dnnl_version_t *v = dnnl_version();
    printf("OpenBLAS %s (core %s, %d threads) against oneDNN %d.%d.%d (CPU ISA %s)\n", openblas_get_config(),
           openblas_get_corename(), openblas_get_num_threads(), v->major, v->minor, v->patch,
           getenv("ONEDNN_MAX_CPU_ISA") ? getenv("ONEDNN_MAX_CPU_ISA") : "detected");
    printf("%-46s %10s %10s\n", "shape", "OpenBLAS", "oneDNN");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape *s = &shapes[i];
        float *a = malloc(sizeof(float) * s->m * s->k), *b = malloc(sizeof(float) * s->k * s->n),
              *c = malloc(sizeof(float) * s->m * s->n);
        srand(7);
        for (long j = 0; j < s->m * s->k; j++) a[j] = (float)rand() / RAND_MAX - 0.5f;
        for (long j = 0; j < s->k * s->n; j++) b[j] = (float)rand() / RAND_MAX - 0.5f;
        double blas = 0, dnnl = 0;
        for (int round = 0; round < 2; round++) {   // alternate, keep the better of two
            double x = rate(0, s, a, b, c, budget / 2), y = rate(1, s, a, b, c, budget / 2);
            if (x > blas) blas = x;
            if (y > dnnl) dnnl = y;
        }
        printf("%-46s %10.1f %10.1f\n", s->name, blas, dnnl);
        free(a); free(b); free(c);
    }
    return 0;
}
