/*  gw_console - the ops web console page. See gw_console.h. */
#include "gw_console.h"

#include <string.h>

static const char s_html [] =
"<!doctype html>\n"
"<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
"<title>tashan console</title>\n"
"<style>\n"
"body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#222}\n"
"header{background:#8b1a1a;color:#fff;padding:10px 20px}header h1{margin:0;font-size:18px}\n"
"main{padding:16px 20px;max-width:1100px}section{background:#fff;border:1px solid #ddd;"
"border-radius:6px;padding:12px 16px;margin-bottom:16px}\n"
"h2{font-size:15px;margin:0 0 8px}table{border-collapse:collapse}td,th{padding:3px 10px;"
"border-bottom:1px solid #eee;text-align:left}\n"
".up{color:#17731d;font-weight:bold}.down{color:#b00;font-weight:bold}\n"
"input,select,textarea,button{font:inherit;padding:4px 6px}textarea{width:100%;height:90px}\n"
"pre{background:#f0f0ee;padding:8px;overflow:auto;max-height:400px}\n"
"</style></head><body>\n"
"<header><h1>tashan community console</h1></header><main>\n"
"<section><h2>Services</h2><table id=\"health\"><tr><td>loading...</td></tr></table></section>\n"
"<section><h2>Ops token</h2>\n"
"<p>Paste the token from <code>&lt;data-dir&gt;/gateway/ops.token</code>. It stays in this "
"browser tab only.</p>\n"
"<input id=\"token\" type=\"password\" size=\"60\" placeholder=\"tsn_...\">\n"
"<button onclick=\"saveToken()\">Use token</button></section>\n"
"<section><h2>Quick views</h2>\n"
"<button onclick=\"go('GET','/v1/credit/honor-board?month='+month())\">Honour board (this month)</button>\n"
"<button onclick=\"go('GET','/v1/buildings')\">Buildings</button>\n"
"<button onclick=\"go('GET','/v1/households')\">Households</button>\n"
"<button onclick=\"go('GET','/v1/merchants')\">Merchants</button>\n"
"<button onclick=\"go('GET','/v1/markets')\">Markets</button>\n"
"<button onclick=\"go('GET','/v1/credit/rules')\">Credit rules</button></section>\n"
"<section><h2>Request</h2>\n"
"<select id=\"method\"><option>GET</option><option>POST</option><option>PUT</option>"
"<option>PATCH</option><option>DELETE</option></select>\n"
"<input id=\"path\" size=\"60\" value=\"/v1/credit/rules\">\n"
"<button onclick=\"send()\">Send</button>\n"
"<p><textarea id=\"body\" placeholder=\"JSON body (POST/PUT/PATCH)\"></textarea></p>\n"
"<div id=\"status\"></div><pre id=\"out\"></pre></section>\n"
"</main>\n"
"<script>\n"
"function month(){var d=new Date(Date.now()+8*3600e3);return d.toISOString().slice(0,7)}\n"
"function esc(s){return String(s).replace(/[&<>\"]/g,function(c){return {'&':'&amp;','<':'&lt;','>':'&gt;','\"':'&quot;'}[c]})}\n"
"function saveToken(){sessionStorage.setItem('tashan_token',document.getElementById('token').value.trim())}\n"
"async function health(){try{var r=await fetch('/healthz');var j=await r.json();var h='<tr><th>service</th><th>up</th><th>version</th><th>uptime</th><th>events</th></tr>';\n"
"j.services.forEach(function(s){h+='<tr><td>'+esc(s.name)+'</td><td class=\"'+(s.up?'up\">up':'down\">down')+'</td><td>'+esc(s.version)+'</td><td>'+Math.round(s.uptime_ms/1000)+' s</td><td>'+esc(s.outbox_head_seq)+'</td></tr>'});\n"
"document.getElementById('health').innerHTML=h}catch(e){document.getElementById('health').innerHTML='<tr><td class=\"down\">gateway unreachable</td></tr>'}}\n"
"async function go(method,path,body){var opt={method:method,headers:{}};var t=sessionStorage.getItem('tashan_token');\n"
"if(t)opt.headers['Authorization']='Bearer '+t;if(body){opt.headers['Content-Type']='application/json';opt.body=body}\n"
"document.getElementById('method').value=method;document.getElementById('path').value=path;\n"
"var r=await fetch(path,opt);var text=await r.text();document.getElementById('status').textContent=r.status+' '+r.statusText;\n"
"try{text=JSON.stringify(JSON.parse(text),null,2)}catch(e){}document.getElementById('out').textContent=text}\n"
"function send(){var m=document.getElementById('method').value;var b=document.getElementById('body').value.trim();\n"
"go(m,document.getElementById('path').value,(m=='GET'||m=='DELETE')?null:(b||'{}'))}\n"
"health();setInterval(health,5000);\n"
"</script></body></html>\n";

const char *
gw_console_html (size_t *len)
{
    *len = sizeof s_html - 1;
    return s_html;
}
