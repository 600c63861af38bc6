/*  gw_disclose - the public disclosure page. See gw_disclose.h. */
#include "gw_disclose.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_gateway.h"
#include "merchants.pb-c.h"
#include "ts_arena.h"

#define ROUTE_KEY "GET /c/{code}"

typedef struct {
    gw_http_request *req;
    gw_metrics *metrics;
    ts_arena *arena;
    char *html;                     //  growing page
    size_t len, cap;
} page_t;

static void
s_put (page_t *p, const char *text, size_t n)
{
    if (p->len + n + 1 > p->cap) {
        p->cap = (p->len + n + 1) * 2;
        p->html = realloc (p->html, p->cap);
        assert (p->html);
    }
    memcpy (p->html + p->len, text, n);
    p->len += n;
    p->html [p->len] = 0;
}

static void
s_raw (page_t *p, const char *text)
{
    s_put (p, text, strlen (text));
}

//  Text from the daemon, HTML-escaped.
static void
s_text (page_t *p, const char *text)
{
    for (const char *c = text ? text : ""; *c; c++) {
        const char *rep = *c == '&' ? "&amp;" : *c == '<' ? "&lt;" : *c == '>' ? "&gt;"
                        : *c == '"' ? "&quot;" : *c == '\'' ? "&#39;" : NULL;
        if (rep)
            s_raw (p, rep);
        else
            s_put (p, c, 1);
    }
}

static void
s_head (page_t *p, const char *title)
{
    s_raw (p, "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
              "<link rel=\"icon\" href=\"data:,\">"
              "<title>");
    s_text (p, title);
    s_raw (p, " · 塔山社区一户一码</title><style>"
              "body{margin:0;font:16px/1.6 system-ui,'Noto Sans CJK SC',sans-serif;"
              "background:#f5f3ef;color:#222}"
              "header{background:#a61b1b;color:#fff;padding:14px 18px}"
              "header h1{margin:0;font-size:20px}header p{margin:2px 0 0;opacity:.85;font-size:13px}"
              "main{max-width:560px;margin:0 auto;padding:12px}"
              ".card{background:#fff;border-radius:10px;padding:14px 16px;margin:10px 0;"
              "box-shadow:0 1px 3px rgba(0,0,0,.08)}"
              "h2{font-size:15px;margin:0 0 8px;color:#a61b1b}"
              "dl{display:grid;grid-template-columns:7em 1fr;gap:6px 8px;margin:0}"
              "dt{color:#666}dd{margin:0}"
              ".badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600}"
              ".good{background:#e3f4e5;color:#17692a}.watch{background:#fff3d6;color:#8a5a00}"
              ".suspended{background:#fde3e3;color:#a11}"
              "ul{margin:0;padding-left:1.2em}footer{text-align:center;color:#888;font-size:12px;"
              "padding:16px}</style></head><body>");
}

static void
s_finish (page_t *p, unsigned status)
{
    s_raw (p, "<footer>塔山社区 · 一户一码信息公示 · 本页不含任何个人信息</footer></body></html>\n");
    static const char *const headers [] = { "Cache-Control", "no-cache", NULL };
    uint64_t elapsed_us = (uv_hrtime () - gw_http_request_start_ns (p->req)) / 1000;
    gw_metrics_request (p->metrics, ROUTE_KEY, status, elapsed_us);
    gw_http_respond (p->req, status, "text/html; charset=utf-8", p->html, p->len, headers);
    free (p->html);
    ts_arena_destroy (&p->arena);
    free (p);
}

static void
s_problem (page_t *p, unsigned status, const char *title, const char *text)
{
    s_head (p, title);
    s_raw (p, "<header><h1>");
    s_text (p, title);
    s_raw (p, "</h1><p>塔山社区 一户一码</p></header><main><div class=\"card\"><p>");
    s_text (p, text);
    s_raw (p, "</p></div></main>");
    s_finish (p, status);
}

static void
s_list (page_t *p, const char *label, char **items, size_t n)
{
    s_raw (p, "<dt>");
    s_raw (p, label);
    s_raw (p, "</dt><dd>");
    if (!n)
        s_raw (p, "—");
    else {
        s_raw (p, "<ul>");
        for (size_t i = 0; i < n; i++) {
            s_raw (p, "<li>");
            s_text (p, items [i]);
            s_raw (p, "</li>");
        }
        s_raw (p, "</ul>");
    }
    s_raw (p, "</dd>");
}

static void
s_number (page_t *p, const char *label, unsigned value, const char *unit)
{
    char buf [64];
    snprintf (buf, sizeof buf, "%u %s", value, unit);
    s_raw (p, "<dt>");
    s_raw (p, label);
    s_raw (p, "</dt><dd>");
    s_raw (p, buf);
    s_raw (p, "</dd>");
}

static void
s_on_reply (void *arg, unsigned code, const char *message, const uint8_t *body, size_t size)
{
    page_t *p = arg;
    if (gw_http_request_detached (p->req)) {
        gw_http_respond (p->req, 499, NULL, NULL, 0, NULL);
        free (p->html);
        ts_arena_destroy (&p->arena);
        free (p);
        return;
    }
    Tashan__Merchants__Disclosure *d = code < 300
        ? (Tashan__Merchants__Disclosure *) protobuf_c_message_unpack (
              &tashan__merchants__disclosure__descriptor, ts_arena_pb (p->arena), size, body)
        : NULL;
    if (code == 404 || code == 400 || code == 422 || (code < 300 && !d)) {
        s_problem (p, 404, "未找到该商户码",
                   "这个二维码无效：可能被伪造、篡改或不完整。请向社区办公室核实。");
        return;
    }
    if (!d) {
        s_problem (p, 503, "暂时无法查询", "公示信息暂时无法查询，请稍后再试。");
        return;
    }
    static const char *const kinds [][2] = {
        { "enterprise", "企业" }, { "institution", "事业单位" }, { "individual", "个体工商户" },
    };
    const char *kind = d->kind;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds [0]; i++)
        if (strcmp (d->kind, kinds [i][0]) == 0)
            kind = kinds [i][1];
    const char *standing = strcmp (d->standing, "good") == 0 ? "诚信良好"
                         : strcmp (d->standing, "watch") == 0 ? "关注中"
                         : strcmp (d->standing, "suspended") == 0 ? "暂停参与" : d->standing;
    s_head (p, d->name);
    s_raw (p, "<header><h1>");
    s_text (p, d->name);
    s_raw (p, "</h1><p>塔山社区 一户一码 · 信息公示</p></header><main>"
              "<div class=\"card\"><h2>诚信状况</h2><p><span class=\"badge ");
    s_text (p, d->standing);
    s_raw (p, "\">");
    s_text (p, standing);
    s_raw (p, "</span>");
    if (d->co_building)
        s_raw (p, " <span class=\"badge good\">共建单位</span>");
    s_raw (p, "</p><dl>");
    s_number (p, "有效投诉", d->complaint_count, "件");
    s_number (p, "参加集市", d->markets_attended, "场");
    s_number (p, "服务居民", d->services_given, "次");
    s_raw (p, "</dl></div><div class=\"card\"><h2>基本信息</h2><dl><dt>类型</dt><dd>");
    s_text (p, kind);
    s_raw (p, "</dd><dt>行业</dt><dd>");
    s_text (p, d->category);
    s_raw (p, "</dd><dt>营业执照</dt><dd>");
    s_text (p, d->licence_no [0] ? d->licence_no : "—");
    s_raw (p, "</dd>");
    s_list (p, "服务项目", d->services, d->n_services);
    s_list (p, "免费服务", d->free_services, d->n_free_services);
    s_raw (p, "</dl></div></main>");
    s_finish (p, 200);
}

void
gw_disclose_page (ts_rpc *merchants, gw_metrics *metrics, gw_http_request *req,
                  const char *code)
{
    page_t *p = calloc (1, sizeof *p);
    assert (p);
    p->req = req;
    p->metrics = metrics;
    p->arena = ts_arena_new ();
    char decoded [256];
    if (!*code || strchr (code, '/')
    ||  gw_http_decode (code, strlen (code), decoded, sizeof decoded, false) <= 0) {
        s_problem (p, 404, "未找到该商户码", "这个二维码无效：可能被伪造、篡改或不完整。");
        return;
    }
    Tashan__Merchants__CodeRequest creq = TASHAN__MERCHANTS__CODE_REQUEST__INIT;
    creq.code = decoded;
    size_t size = protobuf_c_message_get_packed_size (&creq.base);
    uint8_t *buf = ts_arena_alloc (p->arena, size ? size : 1);
    protobuf_c_message_pack (&creq.base, buf);
    Tashan__Caller caller = TASHAN__CALLER__INIT;
    caller.role = "public";
    ts_rpc_call (merchants, "merchants.Disclose", &caller, buf, size, GW_RPC_TIMEOUT_MS,
                 s_on_reply, p);
}
