/* libcurl's functions that hangar calls, loaded on first use. Hidden: libcurl itself must never bind to these. */
#pragma GCC visibility push(hidden)
#include <curl/curl.h>
#include <stdarg.h>
#include "lazy_libraries_private.h"

#define CURL_FUNCTIONS(X, V) \
    X(CURLcode, curl_global_init, (long flags), (flags)) \
    X(CURL *, curl_easy_init, (void), ()) \
    V(curl_easy_cleanup, (CURL *curl), (curl)) \
    V(curl_easy_reset, (CURL *curl), (curl)) \
    X(const char *, curl_easy_strerror, (CURLcode code), (code)) \
    X(CURLM *, curl_multi_init, (void), ()) \
    X(CURLMcode, curl_multi_cleanup, (CURLM *multi), (multi)) \
    X(CURLMcode, curl_multi_add_handle, (CURLM *multi, CURL *curl), (multi, curl)) \
    X(CURLMcode, curl_multi_remove_handle, (CURLM *multi, CURL *curl), (multi, curl)) \
    X(CURLMcode, curl_multi_perform, (CURLM *multi, int *running), (multi, running)) \
    X(CURLMcode, curl_multi_poll, (CURLM *multi, struct curl_waitfd extra_fds[], unsigned int extra_nfds, \
                                   int timeout_ms, int *ret), (multi, extra_fds, extra_nfds, timeout_ms, ret)) \
    X(CURLMsg *, curl_multi_info_read, (CURLM *multi, int *msgs_in_queue), (multi, msgs_in_queue)) \
    X(const char *, curl_multi_strerror, (CURLMcode code), (code)) \
    X(struct curl_slist *, curl_slist_append, (struct curl_slist *list, const char *data), (list, data)) \
    V(curl_slist_free_all, (struct curl_slist *list), (list)) \
    X(CURLU *, curl_url, (void), ()) \
    V(curl_url_cleanup, (CURLU *url), (url)) \
    X(CURLUcode, curl_url_set, (CURLU *url, CURLUPart what, const char *part, unsigned int flags), \
      (url, what, part, flags)) \
    X(CURLUcode, curl_url_get, (CURLU *url, CURLUPart what, char **part, unsigned int flags), \
      (url, what, part, flags)) \
    V(curl_free, (void *p), (p))

enum {
    CURL_FUNCTIONS(HANGAR_SLOT_ENUM, HANGAR_SLOT_ENUM_VOID)
    slot_curl_easy_setopt,
    slot_curl_easy_getinfo,
    curl_slot_count
};
const char *const hangar_curl_names[] = {
    CURL_FUNCTIONS(HANGAR_SLOT_NAME, HANGAR_SLOT_NAME_VOID) "curl_easy_setopt", "curl_easy_getinfo",
};
void *hangar_curl_slots[curl_slot_count];
const size_t hangar_curl_count = curl_slot_count;

#define CURL_TRAMPOLINE(ret, name, params, args) HANGAR_TRAMPOLINE(HANGAR_LIB_CURL, hangar_curl_slots, ret, name, params, args)
#define CURL_TRAMPOLINE_VOID(name, params, args) HANGAR_TRAMPOLINE_VOID(HANGAR_LIB_CURL, hangar_curl_slots, name, params, args)
CURL_FUNCTIONS(CURL_TRAMPOLINE, CURL_TRAMPOLINE_VOID)

/* The two variadic functions take exactly one argument after the option, whose type curl encodes in the option's
   number (curl's own CURLOPTTYPE_* ranges): read it as that type and pass it on through the variadic pointer. */
typedef CURLcode (*variadic_option_function)(CURL *, int, ...);

CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...) {
    hangar_lazy_library_require(HANGAR_LIB_CURL);
    variadic_option_function real = (variadic_option_function)hangar_curl_slots[slot_curl_easy_setopt];
    va_list ap;
    va_start(ap, option);
    CURLcode result;
    if (option < CURLOPTTYPE_OBJECTPOINT) {
        long value = va_arg(ap, long);
        result = real(curl, (int)option, value);
    } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {
        void *value = va_arg(ap, void *);
        result = real(curl, (int)option, value);
    } else if (option < CURLOPTTYPE_OFF_T) {
        void (*value)(void) = va_arg(ap, void (*)(void));
        result = real(curl, (int)option, value);
    } else if (option < CURLOPTTYPE_BLOB) {
        curl_off_t value = va_arg(ap, curl_off_t);
        result = real(curl, (int)option, value);
    } else {
        void *value = va_arg(ap, void *);
        result = real(curl, (int)option, value);
    }
    va_end(ap);
    return result;
}

CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...) {
    hangar_lazy_library_require(HANGAR_LIB_CURL);
    variadic_option_function real = (variadic_option_function)hangar_curl_slots[slot_curl_easy_getinfo];
    va_list ap;
    va_start(ap, info);
    void *out = va_arg(ap, void *);  // every CURLINFO_* takes a pointer to where the answer goes
    va_end(ap);
    return real(curl, (int)info, out);
}
