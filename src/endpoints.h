/* endpoints.h - the factories: the source or the sink a spec names.
 *
 * Like git's transport_get(): the one place that knows every concrete
 * source and sink, so that core/ knows only the interfaces and the commands
 * only these two calls. A spec is what the user typed: a path, a
 * clickhouse[s]:// URL or an http[s]:// URL. */
#ifndef CM_ENDPOINTS_H
#define CM_ENDPOINTS_H

#include "chroma/dir_writer.h"
#include "chroma/rest_sink.h"
#include "core/sink.h"
#include "core/source.h"

/* 1 when spec names a Chroma server (http:// or https://). */
int cm_spec_is_server(const char *spec);

/* Opens the source named by spec: a legacy persist_directory path,
 * clickhouse[s]://..., or http[s]://... (a Chroma server). opts may be NULL. */
cm_source *cm_source_open(const char *spec, const cm_source_opts *opts, cm_err *err);

/* Creates the sink for a target: a Chroma server for http[s]:// (server,
 * whose url is ignored: spec is used), else a persistent directory. */
cm_sink *cm_sink_open(const char *spec, const chroma_dir_opts *dir, const chroma_http_opts *server, cm_err *err);

#endif
