// bench_hnsw.cpp - HNSW build time and recall: hnswlib (header-only, built
// with -O3 -march=native by bench/hnsw-build.sh) against ours (linked from a
// static library of src/index). Not a test.
//
//   bench_hnsw [--n 100000] [--dim 384] [--queries 500] [--threads 0]
//              [--kind random|latent|both] [--which both|ours|theirs] [--label TEXT]
//              [--ref KIND=WALL,CPU,RECALL]...
// --ref gives hnswlib's numbers from an earlier run (with --which ours), so
// that a second build of ours can print its ratio too.
//
// Data: random Gaussian, or "latent": 16-dimensional Gaussian latent space
// through a random projection, plus noise. Space l2 (Chroma's default),
// M 16, ef_construction 100, recall@10 at ef 100 over held-out queries.
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include "index/hnsw.h"
}

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed) {}
    uint64_t next()
    {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return ((next() >> 11) + 1) * 0x1.0p-53; }
    double gauss()
    {
        double u = uniform(), v = uniform();
        return std::sqrt(-2 * std::log(u)) * std::cos(6.283185307179586 * v);
    }
};

static std::vector<float> make_data(const std::string &kind, size_t rows, size_t dim, uint64_t seed)
{
    Rng r(seed);
    std::vector<float> out(rows * dim);
    if (kind == "random") {
        for (auto &x : out)
            x = (float)r.gauss();
        return out;
    }
    const size_t L = 16;
    std::vector<float> P(L * dim);
    for (auto &p : P)
        p = (float)(r.gauss() / std::sqrt((double)L));
    std::vector<double> z(L);
    for (size_t i = 0; i < rows; i++) {
        for (auto &x : z)
            x = r.gauss();
        for (size_t j = 0; j < dim; j++) {
            double v = 0.25 * r.gauss();
            for (size_t k = 0; k < L; k++)
                v += z[k] * P[k * dim + j];
            out[i * dim + j] = (float)v;
        }
    }
    return out;
}

template <typename F> static void parallel_for(size_t from, size_t to, int threads, F fn)
{
    std::atomic<size_t> next(from);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++)
        ts.emplace_back([&] {
            for (;;) {
                size_t i = next++;
                if (i >= to)
                    break;
                fn(i);
            }
        });
    for (auto &t : ts)
        t.join();
}

static double wall()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static double cpu()
{
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double recall_of(const std::vector<std::vector<uint64_t>> &truth, const std::vector<std::vector<uint64_t>> &got)
{
    size_t hit = 0, total = 0;
    for (size_t i = 0; i < truth.size(); i++) {
        for (uint64_t t : truth[i])
            hit += std::find(got[i].begin(), got[i].end(), t) != got[i].end();
        total += truth[i].size();
    }
    return (double)hit / (double)total;
}

int main(int argc, char **argv)
{
    size_t n = 100000, dim = 384, nq = 500, M = 16, efc = 100, ef = 100, k = 10;
    int threads = 0;
    std::string kinds = "both", which = "both", label = "ours";
    std::map<std::string, std::vector<double>> refs;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i], v = argv[i + 1];
        if (a == "--n")
            n = std::strtoul(v.c_str(), nullptr, 10);
        else if (a == "--dim")
            dim = std::strtoul(v.c_str(), nullptr, 10);
        else if (a == "--queries")
            nq = std::strtoul(v.c_str(), nullptr, 10);
        else if (a == "--threads")
            threads = std::atoi(v.c_str());
        else if (a == "--kind")
            kinds = v;
        else if (a == "--which")
            which = v;
        else if (a == "--label")
            label = v;
        else if (a == "--ref") {
            size_t eq = v.find('=');
            double w = 0, c = 0, r = 0;
            if (eq != std::string::npos && std::sscanf(v.c_str() + eq + 1, "%lf,%lf,%lf", &w, &c, &r) == 3)
                refs[v.substr(0, eq)] = {w, c, r};
        }
    }
    if (threads <= 0)
        threads = (int)std::thread::hardware_concurrency();
    std::vector<std::string> kl;
    if (kinds == "both")
        kl = {"random", "latent"};
    else
        kl = {kinds};
    std::printf("hnsw-build bench: %zu x %zu, l2, M %zu, ef_construction %zu, %d threads, recall@%zu at ef %zu over %zu "
                "queries\n",
                n, dim, M, efc, threads, k, ef, nq);
    for (const std::string &kind : kl) {
        std::vector<float> all = make_data(kind, n + nq, dim, kind == "random" ? 7 : 8);
        const float *base = all.data(), *qs = all.data() + n * dim;
        hnswlib::L2Space space(dim);
        auto df = space.get_dist_func();
        void *dp = space.get_dist_func_param();
        std::vector<std::vector<uint64_t>> truth(nq);
        parallel_for(0, nq, threads, [&](size_t q) {
            std::vector<std::pair<float, uint64_t>> d(n);
            for (size_t i = 0; i < n; i++)
                d[i] = {df(qs + q * dim, base + i * dim, dp), i + 1};
            std::partial_sort(d.begin(), d.begin() + (long)k, d.end());
            for (size_t i = 0; i < k; i++)
                truth[q].push_back(d[i].second);
        });

        double t_theirs = 0, c_theirs = 0, r_theirs = -1, t_ours = 0, c_ours = 0, r_ours = -1;
        if (which != "ours") {
            double w0 = wall(), c0 = cpu();
            auto *h = new hnswlib::HierarchicalNSW<float>(&space, n, M, efc, 100);
            h->addPoint(base, 1);
            parallel_for(1, n, threads, [&](size_t i) { h->addPoint(base + i * dim, i + 1); });
            t_theirs = wall() - w0;
            c_theirs = cpu() - c0;
            h->setEf(ef);
            std::vector<std::vector<uint64_t>> got(nq);
            for (size_t q = 0; q < nq; q++) {
                auto res = h->searchKnn(qs + q * dim, k);
                while (!res.empty()) {
                    got[q].push_back(res.top().second);
                    res.pop();
                }
            }
            r_theirs = recall_of(truth, got);
            delete h;
            std::printf("  %-7s hnswlib      build %7.2f s wall, %7.2f s cpu, recall@%zu %.4f\n", kind.c_str(),
                        t_theirs, c_theirs, k, r_theirs);
            std::fflush(stdout);
        }
        if (which != "theirs") {
            hnsw_params p;
            std::memset(&p, 0, sizeof p);
            p.dim = dim;
            p.M = M;
            p.ef_construction = efc;
            p.space = HNSW_L2;
            p.seed = 100;
            p.threads = threads;
            cm_err err;
            std::memset(&err, 0, sizeof err);
            double w0 = wall(), c0 = cpu();
            hnsw_index *h = hnsw_new(&p, n, &err);
            for (size_t i = 0; h && i < n; i++)
                hnsw_stage_f32(h, base + i * dim, i + 1, &err);
            if (!h || hnsw_build(h, nullptr, nullptr, &err) < 0) {
                std::fprintf(stderr, "ours: %s\n", err.msg);
                return 1;
            }
            t_ours = wall() - w0;
            c_ours = cpu() - c0;
            std::vector<std::vector<uint64_t>> got(nq);
            std::vector<uint64_t> labels(k);
            for (size_t q = 0; q < nq; q++) {
                size_t m = hnsw_search(h, qs + q * dim, k, ef, labels.data(), nullptr);
                got[q].assign(labels.begin(), labels.begin() + (long)m);
            }
            r_ours = recall_of(truth, got);
            hnsw_free(h);
            std::printf("  %-7s %-12s build %7.2f s wall, %7.2f s cpu, recall@%zu %.4f\n", kind.c_str(), label.c_str(),
                        t_ours, c_ours, k, r_ours);
            std::fflush(stdout);
        }
        if (which == "ours" && refs.count(kind)) {
            t_theirs = refs[kind][0];
            c_theirs = refs[kind][1];
            r_theirs = refs[kind][2];
        }
        if (which == "both" || (which == "ours" && refs.count(kind)))
            std::printf("  %-7s %s vs hnswlib: ratio %.2fx wall, %.2fx cpu (goal >= 1.5); recall %+.4f (goal >= -0.005)\n",
                        kind.c_str(), label.c_str(), t_theirs / t_ours, c_theirs / c_ours, r_ours - r_theirs);
    }
    return 0;
}
