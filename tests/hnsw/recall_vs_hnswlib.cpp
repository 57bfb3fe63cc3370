// recall_vs_hnswlib.cpp - our HNSW builder against hnswlib's, on the same data.
//
// Generates N vectors (default 20,000 x 128) from a 16-dimensional latent
// space plus noise, and Q held-out queries from the same distribution. For
// each space (l2, ip, cosine) it builds hnswlib's index (Debian's header-only
// libhnswlib-dev) and ours with the same M, ef_construction and threads,
// measures recall@10 at ef_search 100 against exact brute force, and checks
// ours >= 0.95 and >= hnswlib's - 0.01.
//
// It also proves the file layout: our four Chroma files are written, read
// back with hnsw_read_chroma_files (same answers), and converted into the
// upstream single-file layout (header without the version int, level 0, link
// lists; no length section), which hnswlib's own loadIndex then loads and
// searches with the same recall.
//
//   recall_vs_hnswlib [--n N] [--dim D] [--queries Q] [--threads T] [--tmp DIR]
// Closing line: "hnsw-recall: N passed, N failed"; exit status 1 on failure.
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

extern "C" {
#include "index/hnsw.h"
}

static int passed, failed;

static void check(bool ok, const char *what, double got, double want)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        std::fprintf(stderr, "FAILED: %s: %.4f (want %.4f)\n", what, got, want);
    }
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

// rows x dim floats: x = z P + noise, z ~ N(0, I_16), P ~ N(0, 1/16).
static std::vector<float> latent_data(size_t rows, size_t dim, uint64_t seed)
{
    const size_t L = 16;
    Rng r(seed);
    std::vector<float> P(L * dim);
    for (auto &p : P)
        p = (float)(r.gauss() / std::sqrt((double)L));
    std::vector<float> out(rows * dim);
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

static void normalize(float *v, size_t dim)
{
    float s = 0;
    for (size_t i = 0; i < dim; i++)
        s += v[i] * v[i];
    float inv = 1.0f / (std::sqrt(s) + 1e-30f);
    for (size_t i = 0; i < dim; i++)
        v[i] *= inv;
}

// Exact top-k labels (1-based) by distance in double precision.
static std::vector<uint64_t> brute(const std::vector<float> &base, size_t n, size_t dim, const float *q, size_t k,
                                   bool l2)
{
    std::vector<std::pair<double, uint64_t>> d(n);
    for (size_t i = 0; i < n; i++) {
        const float *b = &base[i * dim];
        double s = 0;
        if (l2) {
            for (size_t j = 0; j < dim; j++) {
                double t = (double)q[j] - b[j];
                s += t * t;
            }
        } else {
            for (size_t j = 0; j < dim; j++)
                s += (double)q[j] * b[j];
            s = 1 - s;
        }
        d[i] = {s, i + 1};
    }
    std::partial_sort(d.begin(), d.begin() + k, d.end());
    std::vector<uint64_t> out(k);
    for (size_t i = 0; i < k; i++)
        out[i] = d[i].second;
    return out;
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

static double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static std::vector<char> slurp(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

static std::vector<std::vector<uint64_t>> search_ours(const hnsw_index *h, const std::vector<float> &qs, size_t nq,
                                                      size_t dim, size_t k, size_t ef)
{
    std::vector<std::vector<uint64_t>> got(nq);
    std::vector<uint64_t> labels(k);
    std::vector<float> dists(k);
    for (size_t i = 0; i < nq; i++) {
        size_t n = hnsw_search(h, &qs[i * dim], k, ef, labels.data(), dists.data());
        got[i].assign(labels.begin(), labels.begin() + (long)n);
    }
    return got;
}

int main(int argc, char **argv)
{
    size_t n = 20000, dim = 128, nq = 500, M = 16, efc = 100, ef = 100, k = 10;
    int threads = (int)std::thread::hardware_concurrency();
    std::string tmp = "/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--n")
            n = std::strtoul(argv[i + 1], nullptr, 10);
        else if (a == "--dim")
            dim = std::strtoul(argv[i + 1], nullptr, 10);
        else if (a == "--queries")
            nq = std::strtoul(argv[i + 1], nullptr, 10);
        else if (a == "--threads")
            threads = std::atoi(argv[i + 1]);
        else if (a == "--tmp")
            tmp = argv[i + 1];
    }
    if (threads < 1)
        threads = 1;
    std::vector<float> all = latent_data(n + nq, dim, 42);
    std::vector<float> raw_base(all.begin(), all.begin() + (long)(n * dim));
    std::vector<float> raw_q(all.begin() + (long)(n * dim), all.end());
    std::printf("hnsw-recall: %zu x %zu (16-dim latent + noise), %zu queries, M %zu, ef_construction %zu, ef %zu, "
                "%d threads\n",
                n, dim, nq, M, efc, ef, threads);

    const char *names[3] = {"l2", "ip", "cosine"};
    for (int sp = 0; sp < 3; sp++) {
        bool cosine = sp == 2, l2 = sp == 0;
        // hnswlib has no normalising space in this version: cosine is ip
        // over normalised vectors, which is what Chroma does.
        std::vector<float> base = raw_base, qs = raw_q;
        if (cosine) {
            for (size_t i = 0; i < n; i++)
                normalize(&base[i * dim], dim);
            for (size_t i = 0; i < nq; i++)
                normalize(&qs[i * dim], dim);
        }
        std::vector<std::vector<uint64_t>> truth(nq);
        for (size_t i = 0; i < nq; i++)
            truth[i] = brute(base, n, dim, &qs[i * dim], k, l2);

        // hnswlib
        hnswlib::L2Space l2s(dim);
        hnswlib::InnerProductSpace ips(dim);
        hnswlib::SpaceInterface<float> *space = l2 ? (hnswlib::SpaceInterface<float> *)&l2s : &ips;
        double t0 = now();
        auto *theirs = new hnswlib::HierarchicalNSW<float>(space, n, M, efc, 100);
        theirs->addPoint(&base[0], 1);
        parallel_for(1, n, threads, [&](size_t i) { theirs->addPoint(&base[i * dim], i + 1); });
        double t_theirs = now() - t0;
        theirs->setEf(ef);
        std::vector<std::vector<uint64_t>> got_theirs(nq);
        for (size_t i = 0; i < nq; i++) {
            auto res = theirs->searchKnn(&qs[i * dim], k);
            while (!res.empty()) {
                got_theirs[i].push_back(res.top().second);
                res.pop();
            }
        }
        double r_theirs = recall_of(truth, got_theirs);
        delete theirs;

        // ours (we get the raw vectors: cosine normalises inside)
        hnsw_params p;
        std::memset(&p, 0, sizeof p);
        p.dim = dim;
        p.M = M;
        p.ef_construction = efc;
        p.space = (hnsw_space)sp;
        p.seed = 100;
        p.threads = threads;
        cm_err err;
        std::memset(&err, 0, sizeof err);
        t0 = now();
        hnsw_index *ours = hnsw_new(&p, n, &err);
        if (!ours) {
            std::fprintf(stderr, "hnsw_new: %s\n", err.msg);
            return 1;
        }
        for (size_t i = 0; i < n; i++)
            if (hnsw_stage_f32(ours, &raw_base[i * dim], i + 1, &err) < 0) {
                std::fprintf(stderr, "stage: %s\n", err.msg);
                return 1;
            }
        if (hnsw_build(ours, nullptr, nullptr, &err) < 0) {
            std::fprintf(stderr, "build: %s\n", err.msg);
            return 1;
        }
        double t_ours = now() - t0;
        double r_ours = recall_of(truth, search_ours(ours, raw_q, nq, dim, k, ef));

        std::printf("  %-6s recall@%zu: ours %.4f (build %.2f s), hnswlib %.4f (build %.2f s)\n", names[sp], k, r_ours,
                    t_ours, r_theirs, t_theirs);
        std::string what = std::string(names[sp]) + " recall >= 0.95";
        check(r_ours >= 0.95, what.c_str(), r_ours, 0.95);
        what = std::string(names[sp]) + " recall >= hnswlib's - 0.01";
        check(r_ours >= r_theirs - 0.01, what.c_str(), r_ours, r_theirs - 0.01);

        // the files: write, read back, and load with hnswlib itself
        std::string dir = tmp + "/hnsw-recall-" + std::to_string(getpid()) + "-" + names[sp];
        std::string cmd = "mkdir -p '" + dir + "'";
        if (std::system(cmd.c_str()) != 0 || hnsw_write_chroma_files(ours, dir.c_str(), &err) < 0) {
            std::fprintf(stderr, "writing %s: %s\n", dir.c_str(), err.msg);
            failed++;
            hnsw_free(ours);
            continue;
        }
        hnsw_index *back = hnsw_read_chroma_files(dir.c_str(), (hnsw_space)sp, &err);
        if (!back) {
            std::fprintf(stderr, "reading %s: %s\n", dir.c_str(), err.msg);
            failed++;
        } else {
            double r_back = recall_of(truth, search_ours(back, raw_q, nq, dim, k, ef));
            what = std::string(names[sp]) + " recall after reading the files back";
            check(r_back == r_ours, what.c_str(), r_back, r_ours);
            hnsw_free(back);
        }
        std::vector<char> header = slurp(dir + "/header.bin"), level0 = slurp(dir + "/data_level0.bin"),
                          links = slurp(dir + "/link_lists.bin");
        std::string single = dir + "/single.bin";
        {
            std::ofstream o(single, std::ios::binary);
            o.write(header.data() + 4, (long)header.size() - 4); // no PERSISTENCE_VERSION
            o.write(level0.data(), (long)level0.size());
            o.write(links.data(), (long)links.size()); // no length section upstream
        }
        try {
            hnswlib::HierarchicalNSW<float> loaded(space, single);
            loaded.setEf(ef);
            std::vector<std::vector<uint64_t>> got_loaded(nq);
            for (size_t i = 0; i < nq; i++) {
                auto res = loaded.searchKnn(&qs[i * dim], k);
                while (!res.empty()) {
                    got_loaded[i].push_back(res.top().second);
                    res.pop();
                }
            }
            double r_loaded = recall_of(truth, got_loaded);
            std::printf("  %-6s our files loaded by hnswlib: recall@%zu %.4f\n", names[sp], k, r_loaded);
            what = std::string(names[sp]) + " recall of our graph searched by hnswlib";
            check(r_loaded >= 0.95 && std::fabs(r_loaded - r_ours) <= 0.005, what.c_str(), r_loaded, r_ours);
        } catch (const std::exception &e) {
            std::fprintf(stderr, "FAILED: hnswlib could not load our %s files: %s\n", names[sp], e.what());
            failed++;
        }
        cmd = "rm -rf '" + dir + "'";
        if (std::system(cmd.c_str()) != 0)
            std::fprintf(stderr, "could not remove %s\n", dir.c_str());
        hnsw_free(ours);
    }
    std::printf("hnsw-recall: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
