/* test_parquet_encoding.c - the Parquet reader's integer encodings and the
 * Thrift compact protocol, on hand-built buffers: RLE/bit-packed hybrid edge
 * cases (bit widths 0, 1, 7, 32; runs ending mid-group; runs across calls),
 * DELTA_BINARY_PACKED, and Thrift varints, zigzag, field-id deltas in short
 * and long form, bools in the type nibble, skipping, truncation. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "format/parquet_int.h"
#include "format/thrift_compact.h"

static void test_rle(void)
{
    cm_err err = {0};
    uint32_t out[64];
    /* bit width 0: an RLE run of 5 zeros has no value bytes */
    const uint8_t w0[] = {5 << 1};
    CHECK_INT(pq_rle_decode(w0, sizeof w0, 0, out, 5, &err), 0);
    CHECK_INT(out[4], 0);
    /* bit width 1, bit-packed: one group of 8 values 1,0,1,1,0,0,0,1 */
    const uint8_t w1[] = {(1 << 1) | 1, 0x8d};
    CHECK_INT(pq_rle_decode(w1, sizeof w1, 1, out, 8, &err), 0);
    CHECK(out[0] == 1 && out[1] == 0 && out[2] == 1 && out[3] == 1 && out[7] == 1 && out[6] == 0);
    /* a bit-packed group where only 3 values are wanted (page ends mid-group) */
    CHECK_INT(pq_rle_decode(w1, sizeof w1, 1, out, 3, &err), 0);
    CHECK(out[2] == 1);
    /* bit width 7: RLE run of 3 x 100, then bit-packed 8 values 0..7 */
    uint8_t w7[16] = {3 << 1, 100, (1 << 1) | 1};
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits |= (uint64_t)i << (7 * i);
    for (int i = 0; i < 7; i++)
        w7[3 + i] = (uint8_t)(bits >> (8 * i));
    CHECK_INT(pq_rle_decode(w7, 10, 7, out, 11, &err), 0);
    CHECK(out[0] == 100 && out[2] == 100 && out[3] == 0 && out[10] == 7);
    /* bit width 32: RLE value stored in 4 bytes */
    const uint8_t w32[] = {2 << 1, 0x78, 0x56, 0x34, 0x12};
    CHECK_INT(pq_rle_decode(w32, sizeof w32, 32, out, 2, &err), 0);
    CHECK(out[1] == 0x12345678u);
    /* truncated runs and bad widths are errors */
    CHECK_INT(pq_rle_decode(w32, 3, 32, out, 2, &err), -1);
    CHECK_INT(pq_rle_decode(w1, 1, 1, out, 8, &err), -1);
    CHECK_INT(pq_rle_decode(w1, sizeof w1, 33, out, 1, &err), -1);
    const uint8_t empty_run[] = {0};
    CHECK_INT(pq_rle_decode(empty_run, 1, 1, out, 1, &err), -1);
    /* asking for more values than the data holds */
    CHECK_INT(pq_rle_decode(w0, sizeof w0, 0, out, 6, &err), -1);
}

static void test_delta(void)
{
    cm_err err = {0};
    int64_t out[8];
    size_t used;
    /* block 128, 4 miniblocks, 5 values, first 7 (zigzag 14); deltas all 2:
     * min delta 2 (zigzag 4), bit widths 0 -> no miniblock bytes */
    const uint8_t d[] = {0x80, 0x01, 4, 5, 14, 4, 0, 0, 0, 0};
    CHECK_INT(pq_delta_decode(d, sizeof d, out, 5, &used, &err), 0);
    CHECK(out[0] == 7 && out[1] == 9 && out[4] == 15);
    CHECK_INT(used, sizeof d);
    /* negative first value (zigzag 3 = -2) and a single value */
    const uint8_t one[] = {0x80, 0x01, 4, 1, 3};
    CHECK_INT(pq_delta_decode(one, sizeof one, out, 1, &used, &err), 0);
    CHECK_INT(out[0], -2);
    /* malformed header: block size not a multiple of 128 */
    const uint8_t bad[] = {100, 4, 5, 14};
    CHECK_INT(pq_delta_decode(bad, sizeof bad, out, 5, &used, &err), -1);
    /* truncated */
    CHECK_INT(pq_delta_decode(d, 5, out, 5, &used, &err), -1);
}

static void test_thrift(void)
{
    cm_err err = {0};
    tc_reader r;
    /* varint 300 = ac 02; zigzag i32 -1 = 01; i64 150 = zigzag 300 */
    const uint8_t v[] = {0xac, 0x02};
    uint64_t u;
    tc_init(&r, v, sizeof v, &err);
    CHECK(tc_varint(&r, &u) == 0 && u == 300);
    /* struct: field 1 i32 (-1), field 3 bool true (delta 2, type 1),
     * field 20 i64 in long form (delta 0, type 6, zigzag id 40) = 150,
     * field 21 binary "ab", stop */
    const uint8_t s[] = {0x15, 0x01, 0x21, 0x06, 0x28, 0xac, 0x02, 0x18, 0x02, 'a', 'b', 0x00};
    tc_init(&r, s, sizeof s, &err);
    int16_t last = 0, id;
    int t;
    int64_t x;
    CHECK_INT(tc_struct_begin(&r, &last), 0);
    CHECK(tc_field(&r, &last, &id, &t) == 1 && id == 1 && t == TC_I32);
    CHECK(tc_int(&r, t, &x) == 0 && x == -1);
    CHECK(tc_field(&r, &last, &id, &t) == 1 && id == 3 && t == TC_TRUE);
    CHECK(tc_field(&r, &last, &id, &t) == 1 && id == 20 && t == TC_I64);
    CHECK(tc_int(&r, t, &x) == 0 && x == 150);
    CHECK(tc_field(&r, &last, &id, &t) == 1 && id == 21 && t == TC_BINARY);
    const uint8_t *p;
    size_t n;
    CHECK(tc_binary(&r, &p, &n) == 0 && n == 2 && p[0] == 'a');
    CHECK_INT(tc_field(&r, &last, &id, &t), 0);
    /* skipping a nested struct and a list of i32 */
    const uint8_t nest[] = {0x1c, 0x15, 0x04, 0x00, 0x19, 0x35, 0x02, 0x04, 0x06, 0x00};
    tc_init(&r, nest, sizeof nest, &err);
    last = 0;
    CHECK_INT(tc_struct_begin(&r, &last), 0);
    CHECK(tc_field(&r, &last, &id, &t) == 1 && t == TC_STRUCT && tc_skip(&r, t) == 0);
    CHECK(tc_field(&r, &last, &id, &t) == 1 && id == 2 && t == TC_LIST && tc_skip(&r, t) == 0);
    CHECK_INT(tc_field(&r, &last, &id, &t), 0);
    /* truncation at every byte is a clean error */
    for (size_t cut = 0; cut < sizeof s - 1; cut++) {
        tc_init(&r, s, cut, &err);
        last = 0;
        int rc = tc_struct_begin(&r, &last);
        while (rc == 0 && (rc = tc_field(&r, &last, &id, &t)) == 1)
            rc = tc_skip(&r, t);
        CHECK_MSG(rc < 0, "cut at %zu", cut);
    }
}

int main(void)
{
    test_rle();
    test_delta();
    test_thrift();
    return check_done("parquet-encoding");
}
