/*
 * loadclient.c - small HTTP load client for eventbox tests and benchmarks.
 *
 * Sends requests to one URL (or URL template) over libcurl's multi interface
 * with -c concurrent slots.  Each slot owns one easy handle, reused for every
 * request it makes.  Every answer can be written to a file (-o), and a
 * key=value summary goes to stdout.
 *
 * How it is used:
 *  1. Correctness tests send thousands of concurrent registrations for one
 *     event through nginx, then check the answers:
 *       loadclient -c 200 -n 5000 -X POST -o answers.tsv \
 *         -b '{"name":"P {n}","email":"p{n}-{r}@example.org"}' \
 *         http://127.0.0.1:8080/events/E/registrations
 *     The summary gives the counts (status_201=, status_409=, errors=).
 *     answers.tsv has one line per request, in the order they completed:
 *       <n> TAB <status> TAB <latency us> TAB <response body, one line>
 *  2. Benchmarks run for a fixed time and read rps=, p50_us=, p90_us=,
 *     p99_us=, max_us= and client_cpu_s= from the summary:
 *       loadclient -q -c 64 -d 30 -u 'http://h/events/bench-{e:1000}/x'
 *
 * Placeholders in the URL and in the -b body:
 *   {n}    the request's sequence number (0-based, unique per request)
 *   {r}    a random 64-bit run id, 16 hex digits, chosen once per process
 *          (it is also printed as run_id= in the summary)
 *   {e:K}  (n mod K) + 1, to spread requests over K events
 *
 * Latency runs from curl_multi_add_handle to completion (CLOCK_MONOTONIC).
 * Percentiles use the nearest-rank method over requests that got an HTTP
 * answer.  Transport errors (status 0 in -o) count in requests= and errors=
 * but are left out of the latency figures.
 *
 * Exit status: 0 if every request got an HTTP answer (4xx/5xx included);
 *              1 on setup failure, or if any request hit a transport error;
 *              2 on usage error.
 *
 * Build (one file, libcurl >= 7.66 for curl_multi_poll):
 *   cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wshadow \
 *      -Wconversion -Werror -O2 -o loadclient tests/loadclient.c \
 *      $(pkg-config --cflags --libs libcurl)
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#if LIBCURL_VERSION_NUM < 0x074200
#error "loadclient needs libcurl >= 7.66.0 (curl_multi_poll)"
#endif

#define MAX_CONNS     10000L
#define MAX_REQUESTS  10000000L       /* -n cap, and the cap on a -d run */
#define MAX_SECONDS   86400L          /* -d and -t */
#define MAX_HEADERS   64
#define MAX_TEMPLATE  ((size_t)1 << 20)  /* bytes in the URL or -b template */
#define MAX_EVENTS_K  1000000000ULL   /* K in {e:K} */
#define RESP_CAP      ((size_t)1 << 16)  /* response bytes kept per request */
#define LAT_INITIAL   65536           /* first latency array size in -d mode */
#define POLL_MS       100
#define STATUS_SLOTS  1000            /* HTTP status codes 0..999 */

enum method { M_GET, M_POST, M_DELETE };

struct options {
    long conns, total, duration_s, timeout_s;
    bool total_given, keepalive, quiet;
    enum method method;
    const char *headers[MAX_HEADERS];
    size_t nheaders;
    const char *body;       /* -b template, NULL if none */
    const char *url;        /* -u or positional URL template */
    const char *out_path;   /* -o, NULL if none */
};

/* A template is compiled once into literal runs and placeholders. */
enum part_kind { P_LIT, P_SEQ, P_RUN, P_EVENT };

struct part {
    enum part_kind kind;
    const char *lit;        /* P_LIT: slice of the source string */
    size_t len;
    uint64_t k;             /* P_EVENT: modulus */
};

struct tpl {
    struct part *parts;
    size_t nparts;
    size_t max_len;         /* longest possible expansion, without NUL */
};

struct slot {
    CURL *easy;
    bool busy;              /* currently added to the multi handle */
    uint64_t seq;
    uint64_t start_ns;
    char *url, *body;       /* expansion buffers (max_len + 1 bytes) */
    char *resp;             /* response body, at most RESP_CAP bytes */
    size_t resp_len, resp_cap;
    char err[CURL_ERROR_SIZE];
};

struct run {
    const struct options *opt;
    struct tpl url_tpl, body_tpl;
    bool has_body, curl_ready;
    uint64_t run_id;
    CURLM *multi;
    struct curl_slist *headers;
    struct slot *slots;
    size_t nslots, active;
    FILE *out;
    uint64_t *lat;          /* latencies (us) of requests with an answer */
    size_t nlat, lat_cap;
    uint64_t next_seq, limit, deadline_ns, t0_ns, t_end_ns;
    uint64_t completed, errors;
    uint64_t status[STATUS_SLOTS];
    char first_err[CURL_ERROR_SIZE];
};

/* ---------------------------------------------------------------- misc */

static void usage(FILE *f)
{
    fputs("usage: loadclient [options] URL\n"
          "  -c N          concurrent connections (default 16)\n"
          "  -n N          total requests (default 100)\n"
          "  -d SECONDS    run for a duration instead of a count\n"
          "  -X METHOD     GET (default) | POST | DELETE\n"
          "  -H 'Name: v'  extra header (repeatable)\n"
          "  -b TEMPLATE   request body; {n} = sequence no., {r} = run id\n"
          "  -u TEMPLATE   URL template instead of URL; {n}, {r}, {e:K}\n"
          "  -o FILE       one line per request: n, status, latency_us, body\n"
          "  -k / -K       keep connections alive (default) / do not\n"
          "  -t SECONDS    per-request timeout (default 30)\n"
          "  -q            no summary\n", f);
}

static int oom(void)
{
    fputs("loadclient: out of memory\n", stderr);
    return -1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail on a POSIX system that has it; setup()
     * checks once that it works. */
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_long(const char *s, long min, long max, long *out,
                      const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v < min || v > max) {
        fprintf(stderr, "loadclient: %s wants an integer in [%ld, %ld], "
                "got '%s'\n", what, min, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Case-insensitive (ASCII) "does header line h have name `name`?" */
static bool header_is(const char *h, const char *name)
{
    size_t i = 0;
    for (; name[i] != '\0'; i++) {
        char a = h[i], b = name[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return h[i] == ':';
}

static uint64_t make_run_id(void)
{
    uint64_t id = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t got = read(fd, &id, sizeof id);
        close(fd);
        if (got == (ssize_t)sizeof id)
            return id;
    }
    /* Fallback: mix clocks and pid through the splitmix64 finaliser. */
    struct timespec a = {0}, b = {0};
    (void)clock_gettime(CLOCK_REALTIME, &a);
    (void)clock_gettime(CLOCK_MONOTONIC, &b);
    uint64_t x = ((uint64_t)a.tv_sec * 1000000000u + (uint64_t)a.tv_nsec)
                 ^ ((uint64_t)b.tv_nsec << 20) ^ ((uint64_t)getpid() << 40);
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Thousands of slots need more descriptors than the usual soft limit of
 * 1024; raise the soft limit towards the hard one if needed. */
static void raise_fd_limit(size_t conns)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)conns * 3 + 64;   /* socket + resolver pair */
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
        return;
    rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need)
                  ? need : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < need)
        fprintf(stderr, "loadclient: warning: open-file limit may be too "
                "low for %zu connections\n", conns);
}

/* ------------------------------------------------------------ options */

static int add_header(struct options *o, const char *h)
{
    const char *colon = strchr(h, ':');
    if (colon == NULL || colon == h || strpbrk(h, "\r\n") != NULL) {
        fprintf(stderr, "loadclient: -H wants 'Name: value', got '%s'\n", h);
        return -1;
    }
    if (o->nheaders == MAX_HEADERS) {
        fprintf(stderr, "loadclient: at most %d -H options\n", MAX_HEADERS);
        return -1;
    }
    o->headers[o->nheaders++] = h;
    return 0;
}

static int parse_method(const char *s, enum method *m)
{
    if (strcmp(s, "GET") == 0)
        *m = M_GET;
    else if (strcmp(s, "POST") == 0)
        *m = M_POST;
    else if (strcmp(s, "DELETE") == 0)
        *m = M_DELETE;
    else {
        fprintf(stderr, "loadclient: -X wants GET, POST or DELETE, "
                "got '%s'\n", s);
        return -1;
    }
    return 0;
}

/* One option; returns 0, -1 on a bad value, 1 for -h. */
static int apply_option(struct options *o, int c, const char *arg,
                        const char **url_opt)
{
    switch (c) {
    case 'c': return parse_long(arg, 1, MAX_CONNS, &o->conns, "-c");
    case 'n':
        o->total_given = true;
        return parse_long(arg, 1, MAX_REQUESTS, &o->total, "-n");
    case 'd': return parse_long(arg, 1, MAX_SECONDS, &o->duration_s, "-d");
    case 't': return parse_long(arg, 1, MAX_SECONDS, &o->timeout_s, "-t");
    case 'X': return parse_method(arg, &o->method);
    case 'H': return add_header(o, arg);
    case 'b': o->body = arg; return 0;
    case 'u': *url_opt = arg; return 0;
    case 'o': o->out_path = arg; return 0;
    case 'k': o->keepalive = true; return 0;
    case 'K': o->keepalive = false; return 0;
    case 'q': o->quiet = true; return 0;
    case 'h': return 1;
    default: return -1;     /* getopt already said what was wrong */
    }
}

/* Returns 0 to run, 1 if help was printed, 2 on usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){ .conns = 16, .total = 100, .timeout_s = 30,
                           .keepalive = true, .method = M_GET };
    const char *url_opt = NULL;
    int c;
    while ((c = getopt(argc, argv, "c:n:d:X:H:b:u:o:kKt:qh")) != -1) {
        int rc = apply_option(o, c, optarg, &url_opt);
        if (rc == 1) {
            usage(stdout);
            return 1;
        }
        if (rc != 0) {
            usage(stderr);
            return 2;
        }
    }
    int npos = argc - optind;
    const char *err = NULL;
    if (url_opt != NULL && npos != 0)
        err = "give either -u URLTEMPLATE or a URL, not both";
    else if (url_opt == NULL && npos != 1)
        err = "need exactly one URL";
    else if (o->duration_s > 0 && o->total_given)
        err = "give either -n or -d, not both";
    else if (o->body != NULL && o->method == M_GET)
        err = "-b needs -X POST or -X DELETE";
    if (err != NULL) {
        fprintf(stderr, "loadclient: %s\n", err);
        usage(stderr);
        return 2;
    }
    o->url = url_opt != NULL ? url_opt : argv[optind];
    return 0;
}

/* ----------------------------------------------------------- templates */

/* If s starts with a placeholder, describe it in *ph and return its length;
 * 0 if it is not one, -1 if it is a malformed {e:K}. */
static long placeholder(const char *s, struct part *ph)
{
    if (s[0] != '{')
        return 0;
    if ((s[1] == 'n' || s[1] == 'r') && s[2] == '}') {
        ph->kind = s[1] == 'n' ? P_SEQ : P_RUN;
        return 3;
    }
    if (s[1] != 'e' || s[2] != ':')
        return 0;
    if (s[3] < '0' || s[3] > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long k = strtoull(s + 3, &end, 10);
    if (errno == ERANGE || *end != '}' || k < 1 || k > MAX_EVENTS_K)
        return -1;
    ph->kind = P_EVENT;
    ph->k = k;
    return (long)(end + 1 - s);
}

static size_t part_max_len(const struct part *p)
{
    switch (p->kind) {
    case P_LIT: return p->len;
    case P_RUN: return 16;
    default: return 20;     /* digits of UINT64_MAX */
    }
}

/* Split src into parts; with out == NULL only count.  Returns the number
 * of parts, or -1 on a malformed placeholder. */
static long tpl_scan(const char *src, struct part *out, size_t *max_len)
{
    long n = 0;
    size_t i = 0, lit_start = 0;
    *max_len = 0;
    for (;;) {
        struct part ph = {0};
        long len = src[i] == '\0' ? 0 : placeholder(src + i, &ph);
        if (len < 0)
            return -1;
        if (len == 0 && src[i] != '\0') {
            i++;
            continue;
        }
        if (i > lit_start) {    /* flush the literal run before i */
            struct part lit = { P_LIT, src + lit_start, i - lit_start, 0 };
            if (out != NULL)
                out[n] = lit;
            n++;
            *max_len += lit.len;
        }
        if (len == 0)
            return n;           /* end of string */
        if (out != NULL)
            out[n] = ph;
        n++;
        *max_len += part_max_len(&ph);
        i += (size_t)len;
        lit_start = i;
    }
}

static int tpl_compile(struct tpl *t, const char *src, const char *what)
{
    if (strlen(src) > MAX_TEMPLATE) {
        fprintf(stderr, "loadclient: %s longer than %zu bytes\n", what,
                MAX_TEMPLATE);
        return -1;
    }
    long n = tpl_scan(src, NULL, &t->max_len);
    if (n < 0) {
        fprintf(stderr, "loadclient: bad {e:K} in %s (K must be 1..%llu)\n",
                what, MAX_EVENTS_K);
        return -1;
    }
    t->nparts = (size_t)n;
    t->parts = calloc(t->nparts + 1, sizeof *t->parts);
    if (t->parts == NULL)
        return oom();
    (void)tpl_scan(src, t->parts, &t->max_len);
    return 0;
}

static size_t put_dec(char *dst, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        dst[i] = tmp[n - 1 - i];
    return n;
}

static size_t put_hex16(char *dst, uint64_t v)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 16; i-- > 0; v >>= 4)
        dst[i] = hex[v & 0xf];
    return 16;
}

/* Expand into dst, which has room for t->max_len + 1 bytes. */
static size_t tpl_expand(const struct tpl *t, uint64_t seq, uint64_t run_id,
                         char *dst)
{
    size_t len = 0;
    for (size_t i = 0; i < t->nparts; i++) {
        const struct part *p = &t->parts[i];
        switch (p->kind) {
        case P_LIT:
            memcpy(dst + len, p->lit, p->len);
            len += p->len;
            break;
        case P_SEQ: len += put_dec(dst + len, seq); break;
        case P_RUN: len += put_hex16(dst + len, run_id); break;
        case P_EVENT: len += put_dec(dst + len, seq % p->k + 1); break;
        }
    }
    dst[len] = '\0';
    return len;
}

/* ------------------------------------------------------- curl plumbing */

static int easy_fail(const char *what, CURLcode rc)
{
    fprintf(stderr, "loadclient: %s: %s\n", what, curl_easy_strerror(rc));
    return -1;
}

static int multi_fail(const char *what, CURLMcode mc)
{
    fprintf(stderr, "loadclient: %s: %s\n", what, curl_multi_strerror(mc));
    return -1;
}

/* Set an easy option or return -1 from the calling function. */
#define SETOPT(h, opt, val)                                              \
    do {                                                                 \
        CURLcode setopt_rc_ = curl_easy_setopt((h), (opt), (val));       \
        if (setopt_rc_ != CURLE_OK)                                      \
            return easy_fail("curl_easy_setopt(" #opt ")", setopt_rc_);  \
    } while (0)

static int resp_reserve(struct slot *s, size_t need)
{
    if (need <= s->resp_cap)
        return 0;
    size_t cap = s->resp_cap != 0 ? s->resp_cap : 1024;
    while (cap < need)
        cap *= 2;
    if (cap > RESP_CAP)
        cap = RESP_CAP;
    char *p = realloc(s->resp, cap);
    if (p == NULL)
        return -1;
    s->resp = p;
    s->resp_cap = cap;
    return 0;
}

/* Keep the first RESP_CAP bytes of the body, drop the rest. */
static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct slot *s = userdata;
    if (size != 0 && nmemb > SIZE_MAX / size)
        return 0;
    size_t total = size * nmemb;
    size_t room = RESP_CAP - s->resp_len;
    size_t take = total < room ? total : room;
    if (take == 0)
        return total;
    if (resp_reserve(s, s->resp_len + take) != 0)
        return 0;               /* curl ends the transfer: write error */
    memcpy(s->resp + s->resp_len, ptr, take);
    s->resp_len += take;
    return total;
}

/* Options that stay the same for every request of a slot. */
static int slot_init(struct run *r, struct slot *s)
{
    const struct options *o = r->opt;
    s->url = malloc(r->url_tpl.max_len + 1);
    if (r->has_body)
        s->body = malloc(r->body_tpl.max_len + 1);
    if (s->url == NULL || (r->has_body && s->body == NULL))
        return oom();
    s->easy = curl_easy_init();
    if (s->easy == NULL) {
        fputs("loadclient: curl_easy_init failed\n", stderr);
        return -1;
    }
    CURL *h = s->easy;
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    SETOPT(h, CURLOPT_PRIVATE, (void *)s);
    SETOPT(h, CURLOPT_WRITEFUNCTION, on_data);
    SETOPT(h, CURLOPT_WRITEDATA, (void *)s);
    SETOPT(h, CURLOPT_ERRORBUFFER, s->err);
    SETOPT(h, CURLOPT_TIMEOUT_MS, o->timeout_s * 1000L);
    SETOPT(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SETOPT(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SETOPT(h, CURLOPT_USERAGENT, "eventbox-loadclient/1");
    SETOPT(h, CURLOPT_HTTPHEADER, r->headers);
    SETOPT(h, CURLOPT_FORBID_REUSE, o->keepalive ? 0L : 1L);
    if (o->method == M_DELETE)
        SETOPT(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    if (o->method == M_POST && !r->has_body) {  /* empty POST body */
        SETOPT(h, CURLOPT_POSTFIELDS, "");
        SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    return 0;
}

/* Start request number r->next_seq on an idle slot. */
static int issue(struct run *r, struct slot *s)
{
    s->seq = r->next_seq++;
    tpl_expand(&r->url_tpl, s->seq, r->run_id, s->url);
    SETOPT(s->easy, CURLOPT_URL, s->url);
    if (r->has_body) {
        size_t len = tpl_expand(&r->body_tpl, s->seq, r->run_id, s->body);
        SETOPT(s->easy, CURLOPT_POSTFIELDS, s->body);
        SETOPT(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    s->resp_len = 0;
    s->err[0] = '\0';
    s->start_ns = now_ns();
    CURLMcode mc = curl_multi_add_handle(r->multi, s->easy);
    if (mc != CURLM_OK)
        return multi_fail("curl_multi_add_handle", mc);
    s->busy = true;
    r->active++;
    return 0;
}

static bool want_more(const struct run *r)
{
    if (r->next_seq >= r->limit)
        return false;
    return r->deadline_ns == 0 || now_ns() < r->deadline_ns;
}

/* -------------------------------------------------------------- results */

static int lat_push(struct run *r, uint64_t us)
{
    if (r->nlat == r->lat_cap) {
        size_t cap = r->lat_cap * 2;
        if (cap > (size_t)MAX_REQUESTS)
            cap = (size_t)MAX_REQUESTS;
        if (cap <= r->nlat)     /* cannot happen: next_seq <= limit */
            return oom();
        uint64_t *p = realloc(r->lat, cap * sizeof *p);
        if (p == NULL)
            return oom();
        r->lat = p;
        r->lat_cap = cap;
    }
    r->lat[r->nlat++] = us;
    return 0;
}

/* One -o line; text is modified in place (tabs and newlines to spaces). */
static int write_record(struct run *r, uint64_t seq, long status,
                        uint64_t lat_us, char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\t' || text[i] == '\r' || text[i] == '\n'
            || text[i] == '\0')
            text[i] = ' ';
    if (fprintf(r->out, "%" PRIu64 "\t%ld\t%" PRIu64 "\t", seq, status,
                lat_us) < 0
        || (len > 0 && fwrite(text, 1, len, r->out) != len)
        || putc('\n', r->out) == EOF) {
        fprintf(stderr, "loadclient: writing %s: %s\n", r->opt->out_path,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* Record a finished transfer and take its handle off the multi. */
static int finish(struct run *r, struct slot *s, CURLcode res)
{
    uint64_t lat_us = (now_ns() - s->start_ns) / 1000;
    long status = 0;
    char *text;
    size_t len;
    if (res == CURLE_OK) {
        CURLcode rc = curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE,
                                        &status);
        if (rc != CURLE_OK)
            return easy_fail("curl_easy_getinfo(RESPONSE_CODE)", rc);
        if (status < 0 || status >= STATUS_SLOTS)
            status = 0;
        r->status[status]++;
        if (lat_push(r, lat_us) != 0)
            return -1;
        text = s->resp;
        len = s->resp_len;
    } else {
        if (s->err[0] == '\0')
            snprintf(s->err, sizeof s->err, "%s", curl_easy_strerror(res));
        if (r->errors++ == 0)
            memcpy(r->first_err, s->err, sizeof r->first_err);
        text = s->err;
        len = strlen(s->err);
    }
    r->completed++;
    CURLMcode mc = curl_multi_remove_handle(r->multi, s->easy);
    if (mc != CURLM_OK)
        return multi_fail("curl_multi_remove_handle", mc);
    s->busy = false;
    r->active--;
    return r->out != NULL ? write_record(r, s->seq, status, lat_us, text, len)
                          : 0;
}

/* Handle every finished transfer; give its slot the next request. */
static int reap(struct run *r)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(r->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        /* msg is invalid once the handle is removed: copy what we need */
        CURL *easy = msg->easy_handle;
        CURLcode res = msg->data.result;
        char *priv = NULL;
        CURLcode rc = curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        if (rc != CURLE_OK || priv == NULL)
            return easy_fail("curl_easy_getinfo(PRIVATE)", rc);
        struct slot *s = (struct slot *)(void *)priv;
        if (finish(r, s, res) != 0)
            return -1;
        if (want_more(r) && issue(r, s) != 0)
            return -1;
    }
    return 0;
}

static int run_loop(struct run *r)
{
    r->t0_ns = now_ns();
    if (r->opt->duration_s > 0)
        r->deadline_ns = r->t0_ns
                         + (uint64_t)r->opt->duration_s * 1000000000u;
    for (size_t i = 0; i < r->nslots && want_more(r); i++)
        if (issue(r, &r->slots[i]) != 0)
            return -1;
    while (r->active > 0) {
        int running;
        CURLMcode mc = curl_multi_perform(r->multi, &running);
        if (mc != CURLM_OK)
            return multi_fail("curl_multi_perform", mc);
        if (reap(r) != 0)
            return -1;
        if (r->active == 0)
            break;
        mc = curl_multi_poll(r->multi, NULL, 0, POLL_MS, NULL);
        if (mc != CURLM_OK)
            return multi_fail("curl_multi_poll", mc);
    }
    r->t_end_ns = now_ns();
    if (r->opt->duration_s > 0 && r->next_seq >= r->limit)
        fprintf(stderr, "loadclient: warning: stopped at %ld requests\n",
                MAX_REQUESTS);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p% of values <= it. */
static uint64_t percentile(const uint64_t *sorted, size_t n, size_t p)
{
    if (n == 0)
        return 0;
    size_t rank = (n * p + 99) / 100;
    return sorted[rank > 0 ? rank - 1 : 0];
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1.0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6
           + (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int print_summary(struct run *r)
{
    if (r->nlat > 0)
        qsort(r->lat, r->nlat, sizeof *r->lat, cmp_u64);
    double dur = (double)(r->t_end_ns - r->t0_ns) / 1e9;
    double rps = dur > 0 ? (double)r->completed / dur : 0.0;
    printf("requests=%" PRIu64 "\nerrors=%" PRIu64 "\n", r->completed,
           r->errors);
    printf("duration_s=%.3f\nrps=%.1f\n", dur, rps);
    printf("p50_us=%" PRIu64 "\np90_us=%" PRIu64 "\np99_us=%" PRIu64 "\n",
           percentile(r->lat, r->nlat, 50), percentile(r->lat, r->nlat, 90),
           percentile(r->lat, r->nlat, 99));
    printf("max_us=%" PRIu64 "\n", r->nlat > 0 ? r->lat[r->nlat - 1] : 0);
    for (size_t code = 0; code < STATUS_SLOTS; code++)
        if (r->status[code] != 0)
            printf("status_%zu=%" PRIu64 "\n", code, r->status[code]);
    printf("client_cpu_s=%.3f\n", cpu_seconds());
    printf("run_id=%016" PRIx64 "\n", r->run_id);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "loadclient: writing summary: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* --------------------------------------------------- setup and cleanup */

static int compile_templates(struct run *r, const struct options *o)
{
    r->opt = o;
    if (tpl_compile(&r->url_tpl, o->url, "URL") != 0)
        return -1;
    r->has_body = o->body != NULL;
    return r->has_body ? tpl_compile(&r->body_tpl, o->body, "-b body") : 0;
}

static int build_headers(struct run *r)
{
    const struct options *o = r->opt;
    bool has_ctype = false, has_expect = false;
    const char *extra[2];
    size_t nextra = 0;
    for (size_t i = 0; i < o->nheaders; i++) {
        has_ctype |= header_is(o->headers[i], "Content-Type");
        has_expect |= header_is(o->headers[i], "Expect");
    }
    if ((o->method == M_POST || r->has_body) && !has_ctype)
        extra[nextra++] = "Content-Type: application/json";
    if (!has_expect)            /* no 100-continue round trip */
        extra[nextra++] = "Expect:";
    for (size_t i = 0; i < o->nheaders + nextra; i++) {
        const char *h = i < o->nheaders ? o->headers[i]
                                        : extra[i - o->nheaders];
        struct curl_slist *l = curl_slist_append(r->headers, h);
        if (l == NULL)
            return oom();
        r->headers = l;
    }
    return 0;
}

static int open_output(struct run *r)
{
    if (r->opt->out_path == NULL)
        return 0;
    r->out = fopen(r->opt->out_path, "w");
    if (r->out == NULL) {
        fprintf(stderr, "loadclient: %s: %s\n", r->opt->out_path,
                strerror(errno));
        return -1;
    }
    if (setvbuf(r->out, NULL, _IOFBF, 1 << 16) != 0)
        fputs("loadclient: warning: setvbuf failed\n", stderr);
    return 0;
}

static int close_output(struct run *r)
{
    if (r->out == NULL)
        return 0;
    int rc = fclose(r->out);
    r->out = NULL;
    if (rc != 0) {
        fprintf(stderr, "loadclient: closing %s: %s\n", r->opt->out_path,
                strerror(errno));
        return -1;
    }
    return 0;
}

static int setup_multi(struct run *r)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        return easy_fail("curl_global_init", rc);
    r->curl_ready = true;
    r->multi = curl_multi_init();
    if (r->multi == NULL) {
        fputs("loadclient: curl_multi_init failed\n", stderr);
        return -1;
    }
    /* one request per connection at a time, so -c means connections */
    CURLMcode mc = curl_multi_setopt(r->multi, CURLMOPT_PIPELINING,
                                     (long)CURLPIPE_NOTHING);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(r->multi, CURLMOPT_MAXCONNECTS,
                               (long)r->nslots);
    return mc == CURLM_OK ? 0 : multi_fail("curl_multi_setopt", mc);
}

static int setup(struct run *r)
{
    const struct options *o = r->opt;
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        fprintf(stderr, "loadclient: CLOCK_MONOTONIC: %s\n", strerror(errno));
        return -1;
    }
    /* libcurl leaves SIGPIPE alone under CURLOPT_NOSIGNAL; ignore it. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    if (sigemptyset(&sa.sa_mask) != 0 || sigaction(SIGPIPE, &sa, NULL) != 0) {
        fprintf(stderr, "loadclient: sigaction: %s\n", strerror(errno));
        return -1;
    }
    r->run_id = make_run_id();
    r->limit = (uint64_t)(o->duration_s > 0 ? MAX_REQUESTS : o->total);
    r->nslots = (size_t)o->conns < r->limit ? (size_t)o->conns
                                            : (size_t)r->limit;
    r->lat_cap = o->duration_s > 0 ? LAT_INITIAL : (size_t)o->total;
    r->lat = malloc(r->lat_cap * sizeof *r->lat);
    r->slots = calloc(r->nslots, sizeof *r->slots);
    if (r->lat == NULL || r->slots == NULL)
        return oom();
    raise_fd_limit(r->nslots);
    if (open_output(r) != 0 || setup_multi(r) != 0 || build_headers(r) != 0)
        return -1;
    for (size_t i = 0; i < r->nslots; i++)
        if (slot_init(r, &r->slots[i]) != 0)
            return -1;
    return 0;
}

static void cleanup(struct run *r)
{
    for (size_t i = 0; r->slots != NULL && i < r->nslots; i++) {
        struct slot *s = &r->slots[i];
        if (s->busy)
            (void)curl_multi_remove_handle(r->multi, s->easy);
        if (s->easy != NULL)
            curl_easy_cleanup(s->easy);
        free(s->url);
        free(s->body);
        free(s->resp);
    }
    free(r->slots);
    if (r->multi != NULL)
        (void)curl_multi_cleanup(r->multi);
    curl_slist_free_all(r->headers);
    if (r->curl_ready)
        curl_global_cleanup();
    if (r->out != NULL)
        (void)fclose(r->out);
    free(r->lat);
    free(r->url_tpl.parts);
    free(r->body_tpl.parts);
}

int main(int argc, char **argv)
{
    struct options opt;
    int prc = parse_options(argc, argv, &opt);
    if (prc != 0)
        return prc == 1 ? 0 : 2;

    struct run r;
    memset(&r, 0, sizeof r);
    int rc = 1;
    if (compile_templates(&r, &opt) != 0) {
        rc = 2;
    } else if (setup(&r) == 0 && run_loop(&r) == 0 && close_output(&r) == 0
               && (opt.quiet || print_summary(&r) == 0)) {
        if (r.errors > 0)
            fprintf(stderr, "loadclient: %" PRIu64 " transport errors, "
                    "first: %s\n", r.errors, r.first_err);
        rc = r.errors > 0 ? 1 : 0;
    }
    cleanup(&r);
    return rc;
}
