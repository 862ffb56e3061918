/* Unit tests for the `dsgraph` Lua library (core/lua_dsgraph*.c, lua_json.c,
 * lua_csv.c, lua_markdown.c): a plain lua_State with lua_dsgraph_open, Lua
 * snippets that assert, and the C conversion API the plugin host uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_dsgraph.h"

/* Helpers every snippet can use. */
static const char *prelude =
    "function eq(a, b, what)\n"
    "  if a ~= b or math.type(a) ~= math.type(b) then\n"
    "    error((what or 'value') .. ': expected ' .. tostring(b) .. ' (' .. tostring(math.type(b)) .. '), got '\n"
    "          .. tostring(a) .. ' (' .. tostring(math.type(a)) .. ')', 2)\n"
    "  end\n"
    "end\n"
    "function fails(pattern, f, ...)\n"
    "  local ok, err = pcall(f, ...)\n"
    "  if ok then error('expected an error matching ' .. pattern, 2) end\n"
    "  if not tostring(err):find(pattern) then error('error \"' .. tostring(err) .. '\" does not match ' .. pattern, 2) end\n"
    "end\n";

static int setup(void **state) {
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_dsgraph_open(L);
    if (luaL_dostring(L, prelude) != LUA_OK) return -1;
    *state = L;
    return 0;
}

static int teardown(void **state) {
    lua_close(*state);
    return 0;
}

/* Runs a snippet; fails the test with Lua's message if it raises. */
static void run(lua_State *L, const char *code) {
    if (luaL_dostring(L, code) != LUA_OK) {
        fprintf(stderr, "Lua error: %s\n", lua_tostring(L, -1));
        fail_msg("snippet failed: %s", lua_tostring(L, -1));
    }
    lua_settop(L, 0);
}

static void json_round_trip_keeps_types(void **state) {
    run(*state,
        "local src = '{\"a\":1,\"b\":1.0,\"c\":null,\"d\":[],\"e\":{},\"f\":\"中文 ＤｅｅｐＳｅｅｋ\",\"g\":[1,\"x\",null,true,false],\"h\":-9007199254740993}'\n"
        "local v = assert(dsgraph.json.decode(src))\n"
        "eq(v.a, 1, 'a'); eq(v.b, 1.0, 'b'); eq(v.h, -9007199254740993, 'h')\n"
        "assert(v.c == dsgraph.null, 'null')\n"
        "assert(dsgraph.is_list(v.d) and #v.d == 0, 'empty list')\n"
        "assert(not dsgraph.is_list(v.e) and next(v.e) == nil, 'empty map')\n"
        "eq(v.f, '中文 ＤｅｅｐＳｅｅｋ'); assert(v.g[3] == dsgraph.null and v.g[4] == true and v.g[5] == false)\n"
        "eq(dsgraph.json.encode(v, {sort_keys=true}), src)\n"
        "eq(dsgraph.json.encode(1), '1'); eq(dsgraph.json.encode(1.0), '1.0'); eq(dsgraph.json.encode(0.5), '0.5'); eq(dsgraph.json.decode(dsgraph.json.encode(0.1)), 0.1)\n"
        "eq(dsgraph.json.encode({}), '{}'); eq(dsgraph.json.encode(dsgraph.list{}), '[]')\n"
        "eq(dsgraph.json.encode(dsgraph.map{}), '{}'); eq(dsgraph.json.encode(nil), 'null')\n"
        "eq(dsgraph.json.encode({1, 2, 3}), '[1,2,3]'); eq(dsgraph.json.encode('a\\0b'), '\"a\\\\u0000b\"')\n"
        "eq(dsgraph.json.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"'), 'é😀')\n"
        "eq(dsgraph.json.encode({x = 'é😀'}), '{\"x\":\"é😀\"}')\n");
}

static void json_encode_errors_name_the_path(void **state) {
    run(*state,
        "fails('value%.a: a function has no JSON form', dsgraph.json.encode, {a = function() end})\n"
        "fails('value: array has holes', dsgraph.json.encode, {[1] = 1, [2] = 2, [4] = 4})\n"
        "fails('value%.t%[2%]: string is not valid UTF%-8', dsgraph.json.encode, {t = {'ok', '\\xff'}})\n"
        "fails('mixes array and object', dsgraph.json.encode, {1, a = 2})\n"
        "fails('keys must be strings', dsgraph.json.encode, {[true] = 1})\n"
        "local t = {}; t.self = t\n"
        "fails('cycle', dsgraph.json.encode, t)\n"
        "fails('no JSON form', dsgraph.json.encode, 0/0)\n"
        "fails('no JSON form', dsgraph.json.encode, math.huge)\n"
        "local deep = {}; local cur = deep; for i = 1, 2000 do cur.x = {}; cur = cur.x end\n"
        "fails('nested deeper', dsgraph.json.encode, deep)\n"
        "fails('bad argument #1', dsgraph.json.decode, {})\n"
        "fails('indent', dsgraph.json.encode, {}, {indent = 99})\n");
}

static void json_decode_errors_have_line_and_column(void **state) {
    run(*state,
        "local v, err = dsgraph.json.decode('{\"a\":\\n  [1, 2,}')\n"
        "assert(v == nil); assert(err:find('^line 2, column %d+: '), err)\n"
        "v, err = dsgraph.json.decode('{\"a\": [1, 2')\n"
        "assert(v == nil and err:find('^line 1, column %d+: '), err)\n"
        "v, err = dsgraph.json.decode('')\n"
        "assert(v == nil and err:find('^line'), err)\n"
        "v, err = dsgraph.json.decode('\"\\xff\"')\n"
        "assert(v == nil and err:find('^line 1, column %d+: unable to decode byte 0xff'), err)\n"
        "v, err = dsgraph.json.decode('123456789012345678901234567890')\n"
        "assert(v == nil and err:find('too big'), err)\n");
}

static void json_deep_nesting_is_an_error(void **state) {
    run(*state,
        "local v, err = dsgraph.json.decode(string.rep('[', 100000))\n"
        "assert(v == nil and err:find('^line 1, column %d+: '), err)\n"
        "v, err = dsgraph.json.decode(string.rep('[', 1000) .. string.rep(']', 1000))\n"
        "assert(v == nil and err:find('deeper than'), err)\n"
        "v = assert(dsgraph.json.decode(string.rep('[', 300) .. string.rep(']', 300)))\n"
        "assert(dsgraph.is_list(v))\n");
}

static void c_conversion_api(void **state) {
    lua_State *L = *state;
    char err[256];
    run(L, "T = {name = 'x', n = 1, r = 2.5, tags = dsgraph.list{}, nested = {a = {true, dsgraph.null}}}");
    lua_getglobal(L, "T");
    json_t *v = lua_dsgraph_tojson(L, -1, "props", err, sizeof err);
    assert_non_null(v);
    assert_true(json_is_integer(json_object_get(v, "n")));
    assert_true(json_is_real(json_object_get(v, "r")));
    assert_true(json_is_array(json_object_get(v, "tags")));
    assert_true(json_is_null(json_array_get(json_object_get(json_object_get(v, "nested"), "a"), 1)));
    lua_settop(L, 0);
    lua_dsgraph_pushjson(L, v);
    lua_setglobal(L, "U");
    json_decref(v);
    run(L, "assert(dsgraph.is_list(U.tags) and #U.tags == 0); eq(U.n, 1); eq(U.r, 2.5)\n"
           "assert(U.nested.a[2] == dsgraph.null)");
    run(L, "T = {tags = {'a', function() end}}");
    lua_getglobal(L, "T");
    assert_null(lua_dsgraph_tojson(L, -1, "props", err, sizeof err));
    assert_string_equal(err, "props.tags[2]: a function has no JSON form");
    lua_settop(L, 0);
}

/* Converts global T with lua_dsgraph_tojson and checks the exact message (NULL: must succeed,
 * and then the compact sorted text must be want_text). */
static void conv_case(lua_State *L, const char *setup, const char *want_err, const char *want_text) {
    char err[600] = "";
    run(L, setup);
    lua_getglobal(L, "T");
    json_t *v = lua_dsgraph_tojson(L, -1, "value", err, sizeof err);
    lua_settop(L, 0);
    if (want_err) {
        assert_null(v);
        assert_string_equal(err, want_err);
        return;
    }
    assert_non_null(v);
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    assert_string_equal(text, want_text);
    free(text);
    json_decref(v);
}

/* The path is kept as steps and written only on failure: each kind of step, a cycle
 * below the root, a table met twice that is no cycle, keys that fail, a path too long. */
static void conversion_paths_are_exact(void **state) {
    lua_State *L = *state;
    conv_case(L, "T = {t = {{}, {u = {function() end}}}}", "value.t[2].u[1]: a function has no JSON form", NULL);
    conv_case(L, "T = {a = {b = {}}}; T.a.b.c = T.a", "value.a.b.c: cycle: a table contains itself", NULL);
    conv_case(L, "T = {1}; T[2] = T", "value[2]: cycle: a table contains itself", NULL);
    conv_case(L, "local s = {1, {2}}; T = {x = s, y = {s, s}}", NULL, "{\"x\":[1,[2]],\"y\":[[1,[2]],[1,[2]]]}");
    conv_case(L, "T = {ok = 1, n = {['a\\0b'] = 1}}", "value.n.a: key contains a NUL byte", NULL);
    conv_case(L, "T = {n = {['\\xff'] = 1}}", "value.n.\xff: key is not valid UTF-8", NULL);
    conv_case(L, "T = {n = {['\\xff\\0'] = 1}}", "value.n.\xff: key is not valid UTF-8", NULL);
    conv_case(L, "T = {a = {{}, {[1] = 1, [3] = 3}}}", "value.a[2]: array has holes (keys must be exactly 1..3)", NULL);
    conv_case(L, "T = {l = dsgraph.list{x = 1}}", "value.l: a dsgraph.list must have keys 1..n only", NULL);
    conv_case(L, "T = {m = dsgraph.map{}, l = dsgraph.list{}, e = {}}", NULL, "{\"e\":{},\"l\":[],\"m\":{}}");
    /* 300-byte keys: the path is cut at 255 bytes, the message still follows it */
    char ks[250], want[600];
    memset(ks, 'k', 249);
    ks[249] = '\0';
    snprintf(want, sizeof want, "value.%s: a function has no JSON form", ks);
    conv_case(L, "local k = string.rep('k', 300); T = {[k] = {[k] = function() end}}", want, NULL);
    /* a failure after a sibling's deep path was written does not inherit it */
    conv_case(L, "T = {{a = {b = 1}}, {c = function() end}}", "value[2].c: a function has no JSON form", NULL);
}

static void csv_quoted_fields_and_lines(void **state) {
    run(*state,
        "local data = 'name,desc,n\\n\"a, b\",\"line1\\nline2\",1\\n\"say \"\"hi\"\"\",x,2\\n\\nc,  spaced  ,3\\r\\nd,,4\\n'\n"
        "local function collect(input)\n"
        "  local rows = {}\n"
        "  for row, line in dsgraph.csv.reader(input, {header = true}) do rows[#rows + 1] = row; eq(row.line, line) end\n"
        "  return rows\n"
        "end\n"
        "local function check(rows)\n"
        "  eq(#rows, 4, 'rows')\n"
        "  eq(rows[1].name, 'a, b'); eq(rows[1].desc, 'line1\\nline2'); eq(rows[1].n, '1'); eq(rows[1].line, 2)\n"
        "  eq(rows[2].name, 'say \"hi\"'); eq(rows[2].line, 4)\n"
        "  eq(rows[3].desc, '  spaced  '); eq(rows[3].n, '3'); eq(rows[3].line, 6)\n"
        "  eq(rows[4].desc, ''); eq(rows[4].line, 7)\n"
        "end\n"
        "check(collect(data))\n"
        "for _, size in ipairs({1, 2, 3, 7}) do\n" /* chunk boundaries everywhere */
        "  local pos = 1\n"
        "  local input = {read = function(self, n) if pos > #data then return nil end\n"
        "    local s = data:sub(pos, pos + size - 1); pos = pos + size; return s end}\n"
        "  check(collect(input))\n"
        "end\n"
        "local rows = {}\n"
        "for row in dsgraph.csv.reader('a;b\\n1;\"2;3\"', {delimiter = ';'}) do rows[#rows + 1] = row end\n"
        "eq(#rows, 2); eq(rows[1][1], 'a'); eq(rows[2][2], '2;3'); eq(rows[2].line, 2)\n");
}

static void csv_errors_name_the_line(void **state) {
    run(*state,
        "local function all(text, opts) for _ in dsgraph.csv.reader(text, opts) do end end\n"
        "fails('csv: line 3 %(byte %d+%): malformed quoting', all, 'a,b\\n1,2\\n3,\"x\"y\\n')\n"
        "fails('csv: line 2 %(byte 6%): malformed quoting', all, 'a,b\\nx\"y,2\\n')\n"
        "fails('csv: line 2 .*unterminated quoted field', all, 'a\\n\"abc\\n\\nmore\\n')\n"
        "fails('csv: line 3 .*record has 1 fields, the header has 2', all, 'a,b\\n1,2\\n3\\n', {header = true})\n"
        "fails('record too large', all, 'a\\n\"' .. string.rep('x\\n', 100), {max_record_bytes = 50})\n"
        "fails('must be a string or have input:read', dsgraph.csv.reader, 42)\n"
        "fails('one character', dsgraph.csv.reader, '', {delimiter = ',,'})\n"
        "local it = dsgraph.csv.reader('a,\"b\\n')\n"
        "fails('unterminated', it)\n"
        "fails('used after an error', it)\n");
}

static void markdown_tree_and_lines(void **state) {
    run(*state,
        "local text = '# Title\\n\\nPara *em* **strong** `code` [l](http://x)\\n\\n- a\\n- b\\n  - c\\n  - d\\n- e\\n\\n"
        "| h1 | h2 |\\n|----|:--:|\\n| x | y |\\n| z | **w** |\\n\\n---\\n\\n3. three\\n4. four\\n\\n```lua\\ncode()\\n```\\n'\n"
        "local doc = dsgraph.markdown.parse(text)\n"
        "eq(doc.type, 'document'); eq(doc.line, 1)\n"
        "local b = doc.children\n"
        "eq(b[1].type, 'heading'); eq(b[1].level, 1); eq(b[1].text, 'Title'); eq(b[1].line, 1)\n"
        "eq(b[2].type, 'paragraph'); eq(b[2].line, 3); eq(b[2].text, 'Para em strong code l')\n"
        "local kinds = {}; for i, c in ipairs(b[2].children) do kinds[i] = c.type end\n"
        "eq(table.concat(kinds, ','), 'text,em,text,strong,text,code,text,link')\n"
        "eq(b[2].children[8].href, 'http://x')\n"
        "local list = b[3]\n"
        "eq(list.type, 'list'); eq(list.ordered, false); eq(list.line, 5); eq(#list.items, 3)\n"
        "eq(list.items[1].text, 'a'); eq(list.items[1].line, 5)\n"
        "eq(list.items[2].text, 'b'); eq(list.items[2].line, 6)\n"
        "local nested = list.items[2].children[2]\n"
        "eq(nested.type, 'list'); eq(nested.line, 7); eq(nested.items[2].text, 'd'); eq(nested.items[2].line, 8)\n"
        "eq(list.items[3].line, 9)\n"
        "local t = b[4]\n"
        "eq(t.type, 'table'); eq(t.line, 11); eq(#t.header, 2); eq(t.header[1].text, 'h1'); eq(t.header[2].align, 'center')\n"
        "eq(#t.rows, 2); eq(t.rows[1][1].text, 'x'); eq(t.rows[1][1].line, 13); eq(t.rows[2][2].text, 'w'); eq(t.rows[2][2].line, 14)\n"
        "eq(t.rows[2][2].children[1].type, 'strong')\n"
        "eq(b[5].type, 'hr'); eq(b[5].line, 16)\n"
        "eq(b[6].type, 'list'); eq(b[6].ordered, true); eq(b[6].start, 3); eq(b[6].line, 18); eq(b[6].items[2].text, 'four')\n"
        "eq(b[7].type, 'code_block'); eq(b[7].lang, 'lua'); eq(b[7].line, 21); eq(b[7].text, 'code()\\n')\n"
        "assert(dsgraph.json.encode(doc))\n" /* the tree is plain data */
        "local d2 = dsgraph.markdown.parse('x &amp; &#20013; y')\n"
        "eq(d2.children[1].text, 'x & 中 y')\n"
        "eq(#dsgraph.markdown.parse('').children, 0)\n"
        "fails('markdown nested too deeply', dsgraph.markdown.parse, string.rep('>', 1000) .. ' x')\n"
        "fails('bad argument', dsgraph.markdown.parse, nil)\n");
}

static void parse_quantity_cases(void **state) {
    run(*state,
        "local q = dsgraph.parse_quantity\n"
        "local function is(s, v, kind, opts) local n, k = q(s, opts); eq(n, v, s); eq(k, kind or 'count', s .. ' kind') end\n"
        "is('236B', 236000000000); is('21B', 21000000000); is('1.5B', 1500000000); is('671B', 671000000000)\n"
        "is('128K', 128000); is('128K', 131072, nil, {k = 1024}); is('128K', 131072, nil, {kind = 'context'})\n"
        "is('128K', 131072, nil, {binary_k = true})\n"
        "is('338', 338); is('约 278 万', 2780000); is('278万', 2780000); is('1.5亿', 150000000)\n"
        "is('$5.576M', 5576000, 'usd'); is('557 万美元', 5570000, 'usd'); is('约 557 万美元', 5570000, 'usd')\n"
        "is('2.788M', 2788000); is('3.5', 3.5); is(' 42 ', 42); is('1,234', 1234); is('14.8T', 14800000000000)\n"
        "is('1.2345K', 1234.5); is('5 million', 5000000);\n");
}

static void parse_quantity_errors(void **state) {
    run(*state,
        "local q = dsgraph.parse_quantity\n"
        "for _, bad in ipairs({'', 'abc', '12 apples', '1.2.3', 'B', '128KB', '$', '99999999999999999999'}) do\n"
        "  local n, err = q(bad)\n"
        "  assert(n == nil and type(err) == 'string' and err:find('cannot parse quantity'), bad)\n"
        "end\n"
        "fails('bad argument', q, {})\n"
        "fails('opts.k', q, '1K', {k = 7})\n"
        "local found = dsgraph.quantities('236B 参数总量，每个 Token 激活 21B 参数，H800 约 278 万小时')\n"
        "eq(#found, 3); eq(found[1].value, 236000000000); eq(found[1].text, '236B'); eq(found[1].start, 1)\n"
        "eq(found[2].value, 21000000000); eq(found[3].value, 2780000)\n"
        "found = dsgraph.quantities('（约 557 万美元） DeepSeek-V3 arXiv:2501.12948')\n"
        "eq(found[1].value, 5570000); eq(found[1].kind, 'usd'); eq(#found, 2); eq(found[2].value, 2501.12948)\n");
}

static void normalize_is_the_store_key(void **state) {
    run(*state,
        "eq(dsgraph.normalize('ＤｅｅｐＳｅｅｋ－Ｖ３'), 'deepseek-v3')\n"
        "eq(dsgraph.normalize('  Multi-head Latent Attention '), 'multi-head latent attention')\n"
        "eq(dsgraph.normalize('多头潜在注意力'), '多头潜在注意力')\n"
        "local n, err = dsgraph.normalize('\\xff'); assert(n == nil and err:find('UTF%-8'), err)\n"
        "n, err = dsgraph.normalize('a\\0b'); assert(n == nil and err:find('NUL'), err)\n"
        "fails('bad argument', dsgraph.normalize, nil)\n"
        "eq(dsgraph.utf8_valid('中文'), true); eq(dsgraph.utf8_valid('\\xe4\\xb8'), false)\n"
        "fails('expected a table', dsgraph.list, 5)\n"
        "eq(tostring(dsgraph.null), 'dsgraph.null')\n");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(json_round_trip_keeps_types, setup, teardown),
        cmocka_unit_test_setup_teardown(json_encode_errors_name_the_path, setup, teardown),
        cmocka_unit_test_setup_teardown(json_decode_errors_have_line_and_column, setup, teardown),
        cmocka_unit_test_setup_teardown(json_deep_nesting_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(c_conversion_api, setup, teardown),
        cmocka_unit_test_setup_teardown(conversion_paths_are_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(csv_quoted_fields_and_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(csv_errors_name_the_line, setup, teardown),
        cmocka_unit_test_setup_teardown(markdown_tree_and_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_quantity_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(parse_quantity_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(normalize_is_the_store_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
