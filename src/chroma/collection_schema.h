/* collection_schema.h - the collection schema Chroma 1.3+ keeps in
 * collections.schema_str (docs/formats.md#collection-schema).
 *
 * From 1.3 a collection created through Chroma's API gets config_json_str
 * '{}' and a schema: the index settings of every value type ("defaults"),
 * the vector index with the HNSW parameters under "#embedding", full-text
 * search under "#document", and one entry per metadata key and value type
 * that the collection's records carry (Chroma adds them as it applies the
 * records). When schema_str is set Chroma takes the HNSW parameters from it
 * and ignores config_json_str. Profile 1.5 writes what 1.5.9 itself would
 * hold after ingesting the same records. */
#ifndef CM_CHROMA_COLLECTION_SCHEMA_H
#define CM_CHROMA_COLLECTION_SCHEMA_H

#include "../core/policy.h"
#include "../core/record.h"
#include "../format/json.h"

/* The metadata keys of a collection's records, each with the value types
 * seen for it, in the order they were first seen. */
typedef struct cm_schema_keys cm_schema_keys;

cm_schema_keys *cm_schema_keys_new(void);
void cm_schema_keys_free(cm_schema_keys *k);
/* Notes m's keys and types (keys starting "chroma:" are Chroma's own and
 * left out, as Chroma does). */
void cm_schema_keys_add(cm_schema_keys *k, const cm_meta *m);

/* The schema_str text for a collection with these HNSW parameters and keys
 * (k may be NULL: none). num_threads: the parameter when the collection sets
 * it, else what Chroma puts there, the number of CPUs of the machine. */
void cm_schema_json(json_out *o, const cm_hnsw_cfg *h, const cm_schema_keys *k);

#endif
