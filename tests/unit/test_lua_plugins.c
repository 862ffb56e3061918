/* Tests of the shipped plugins (the plugins/ directory) and the tutorial's example
 * importer without the daemon: each case in tests/plugins/cases.lua runs a
 * plugin against an input with the mock ctx/input of tests/plugins/mock_host.lua
 * and checks what it recorded, one fact at a time.
 *
 * The seed report is read from $DSGRAPH_SEED_REPORT, else
 * SOURCE_DIR/../shared/seeds/000_81a8176beca22a22.txt; the seed cases are
 * skipped when neither exists. `test_lua_plugins FILE.lua` runs a Lua file in
 * the same environment (handy while writing a plugin). */
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
#include <unistd.h>

#include "lua_dsgraph.h"

/* A full Lua (the harness reads files) with the dsgraph library and the paths set. */
static lua_State *new_state(void) {
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_dsgraph_open(L);
    lua_pushstring(L, SOURCE_DIR);
    lua_setglobal(L, "SOURCE_DIR");
    const char *seed = getenv("DSGRAPH_SEED_REPORT");
    char path[4096];
    if (!seed || !*seed) {
        snprintf(path, sizeof path, "%s/../shared/seeds/000_81a8176beca22a22.txt", SOURCE_DIR);
        seed = path;
    }
    if (access(seed, R_OK) == 0) {
        lua_pushstring(L, seed);
        lua_setglobal(L, "SEED_REPORT");
    }
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/tests/plugins/?.lua", SOURCE_DIR);
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);
    return L;
}

static int setup(void **state) {
    lua_State *L = new_state();
    char file[4096];
    snprintf(file, sizeof file, "%s/tests/plugins/cases.lua", SOURCE_DIR);
    if (luaL_dofile(L, file) != LUA_OK) {
        fprintf(stderr, "cannot load %s: %s\n", file, lua_tostring(L, -1));
        lua_close(L);
        return -1;
    }
    lua_setglobal(L, "CASES");
    *state = L;
    return 0;
}

static int teardown(void **state) {
    lua_close(*state);
    return 0;
}

/* Runs CASES[name](); a case returns "skip" when its input is not there. */
static void run_case(lua_State *L, const char *name) {
    lua_settop(L, 0);
    lua_getglobal(L, "CASES");
    if (lua_getfield(L, -1, name) != LUA_TFUNCTION) fail_msg("no case %s in cases.lua", name);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "%s: %s\n", name, msg ? msg : "(error object)");
        fail_msg("%s failed", name);
    }
    int skip = lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "skip") == 0;
    lua_settop(L, 0);
    if (skip) skip();
}

#define CASE(name) \
    static void name(void **state) { run_case(*state, #name); }
#define T(name) cmocka_unit_test(name)

/* The seed report, fact by fact. */
CASE(seed_imports_without_error)
CASE(seed_v2_released_2024_05)
CASE(seed_v2_params_236b_21b)
CASE(seed_context_128k_is_131072)
CASE(seed_coder_v2_338_languages)
CASE(seed_coder_v2_name_merges_with_curated)
CASE(seed_v3_params_671b_37b)
CASE(seed_v3_gpu_hours_2780000)
CASE(seed_v3_cost_usd_5570000)
CASE(seed_v3_described_in_paper_as_stated)
CASE(seed_v3_uses_techniques)
CASE(seed_technique_aliases)
CASE(seed_r1_based_on_v3_base)
CASE(seed_six_distills_from_r1)
CASE(seed_comparisons)
CASE(seed_benchmarks)
CASE(seed_impacts_with_categories)
CASE(seed_open_source_each_model)
CASE(seed_developed_by_deepseek)
CASE(seed_technique_descriptions)
CASE(seed_summary_table_agrees)
CASE(seed_summary_mismatch_warns_with_line)
CASE(seed_reimport_is_idempotent)
CASE(seed_missing_timeline_is_error)
CASE(seed_missing_impacts_warns)
CASE(seed_unplaced_facts_warn_with_line)
CASE(report_invalid_utf8_is_error_with_line)
/* JSON graph / JSON Lines */
CASE(json_graph_good)
CASE(json_lines_good)
CASE(json_truncated_is_error)
CASE(json_deep_nesting_is_error)
CASE(json_invalid_utf8_is_error)
CASE(json_graph_export_layout_streams)
CASE(json_graph_export_layout_errors_name_the_line)
CASE(json_bad_reference_is_error)
/* CSV (neo4j-admin) */
CASE(csv_nodes_and_rels_good)
CASE(csv_bad_quoting_is_error)
CASE(csv_unknown_type_is_error)
CASE(csv_bad_value_is_error)
CASE(csv_invalid_utf8_is_error)
/* Hugging Face */
CASE(hf_sample_good)
CASE(hf_bad_line_is_error)
CASE(hf_truncated_is_error)
/* Tutorial example */
CASE(example_model_card_good)
CASE(example_model_card_bad_line)
CASE(plugins_have_metadata_and_detect)

int main(int argc, char **argv) {
    if (argc > 1) {
        lua_State *L = new_state();
        int rc = luaL_dofile(L, argv[1]);
        if (rc != LUA_OK) fprintf(stderr, "%s\n", lua_tostring(L, -1));
        lua_close(L);
        return rc == LUA_OK ? 0 : 1;
    }
    const struct CMUnitTest tests[] = {
        T(seed_imports_without_error), T(seed_v2_released_2024_05), T(seed_v2_params_236b_21b),
        T(seed_context_128k_is_131072), T(seed_coder_v2_338_languages), T(seed_coder_v2_name_merges_with_curated),
        T(seed_v3_params_671b_37b), T(seed_v3_gpu_hours_2780000), T(seed_v3_cost_usd_5570000),
        T(seed_v3_described_in_paper_as_stated), T(seed_v3_uses_techniques), T(seed_technique_aliases),
        T(seed_r1_based_on_v3_base), T(seed_six_distills_from_r1), T(seed_comparisons), T(seed_benchmarks),
        T(seed_impacts_with_categories), T(seed_open_source_each_model), T(seed_developed_by_deepseek),
        T(seed_technique_descriptions), T(seed_summary_table_agrees), T(seed_summary_mismatch_warns_with_line),
        T(seed_reimport_is_idempotent), T(seed_missing_timeline_is_error), T(seed_missing_impacts_warns),
        T(seed_unplaced_facts_warn_with_line),
        T(report_invalid_utf8_is_error_with_line),
        T(json_graph_good), T(json_lines_good), T(json_truncated_is_error), T(json_deep_nesting_is_error),
        T(json_invalid_utf8_is_error), T(json_graph_export_layout_streams),
        T(json_graph_export_layout_errors_name_the_line), T(json_bad_reference_is_error),
        T(csv_nodes_and_rels_good), T(csv_bad_quoting_is_error), T(csv_unknown_type_is_error),
        T(csv_bad_value_is_error), T(csv_invalid_utf8_is_error),
        T(hf_sample_good), T(hf_bad_line_is_error), T(hf_truncated_is_error),
        T(example_model_card_good), T(example_model_card_bad_line), T(plugins_have_metadata_and_detect),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
