#ifndef CCURL_SHIM_H
#define CCURL_SHIM_H
#include <curl/curl.h>
/* curl_easy_setopt / curl_easy_getinfo are variadic: Swift cannot call them, so one typed wrapper per kind. */
static inline CURLcode hangar_curl_setopt_long(CURL *h, CURLoption o, long v)          { return curl_easy_setopt(h, o, v); }
static inline CURLcode hangar_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v)     { return curl_easy_setopt(h, o, v); }
static inline CURLcode hangar_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode hangar_curl_setopt_pointer(CURL *h, CURLoption o, void *v)      { return curl_easy_setopt(h, o, v); }
static inline CURLcode hangar_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode hangar_curl_setopt_write_cb(CURL *h, CURLoption o, curl_write_callback cb) { return curl_easy_setopt(h, o, cb); }
static inline CURLcode hangar_curl_setopt_xferinfo_cb(CURL *h, curl_xferinfo_callback cb) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cb); }
static inline CURLcode hangar_curl_getinfo_long(CURL *h, CURLINFO i, long *out)        { return curl_easy_getinfo(h, i, out); }
static inline CURLcode hangar_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *out)   { return curl_easy_getinfo(h, i, out); }
static inline CURLcode hangar_curl_getinfo_string(CURL *h, CURLINFO i, char **out)     { return curl_easy_getinfo(h, i, out); }
#endif
