/* Unit tests for core/config.c: defaults, settings, errors that name the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

static char path[64];

static int write_conf(const char *text)
{
    snprintf(path, sizeof path, "/tmp/dsgraph-test-conf-%d.lua", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    fclose(f);
    return 0;
}

static void defaults(void **st)
{
    dsg_config c;
    config_defaults(&c);
    assert_int_equal(c.max_line_bytes, 16u << 20);
    assert_int_equal(c.socket_mode, 0660);
    assert_int_equal(c.max_pending_requests, 1024);
    assert_null(c.socket);
    assert_int_equal(c.read_mmap_bytes, 0);
    assert_int_equal(c.read_cache_bytes, 2 << 20);
    assert_int_equal(c.search_defer_nodes, 65536);
    assert_int_equal(c.heap_trim_after_ms, 1000);
    assert_int_equal(c.heap_trim_threshold_bytes, 16 << 20);
    assert_int_equal(c.bulk_write_queue_bytes, 4 << 20);
}

static void settings_are_read(void **st)
{
    dsg_config c;
    char err[600];
    config_defaults(&c);
    assert_int_equal(write_conf("socket = '/tmp/x.sock'\nsocket_mode = '0666'\nmax_line_bytes = 64 * 1024\n"
                                "write_uids = {0, 65534, 'root'}\nlog_level = 'debug'\n"
                                "local n = 3\nread_threads = n + 1\nread_mmap_bytes = 256 * 1024 * 1024\n"
                                "read_cache_bytes = 16 * 1024 * 1024\nheap_trim_threshold_bytes = 1024 * 1024\n"
                                "bulk_write_queue_bytes = 0\n"), 0);
    assert_int_equal(config_load(&c, path, err, sizeof err), 0);
    assert_string_equal(c.socket, "/tmp/x.sock");
    assert_int_equal(c.socket_mode, 0666);
    assert_int_equal(c.max_line_bytes, 65536);
    assert_int_equal(c.n_write_uids, 3);
    assert_int_equal(c.write_uids[1], 65534);
    assert_int_equal(c.write_uids[2], 0);
    assert_int_equal(c.log_level, LOG_DEBUG);
    assert_int_equal(c.read_threads, 4);
    assert_int_equal(c.read_mmap_bytes, 256 << 20);
    assert_int_equal(c.read_cache_bytes, 16 << 20);
    assert_int_equal(c.heap_trim_threshold_bytes, 1 << 20);
    assert_int_equal(c.bulk_write_queue_bytes, 0);
    config_free(&c);
    unlink(path);
}

static void errors_name_the_problem(void **st)
{
    struct { const char *text, *needle; } cases[] = {
        {"max_line_byte = 10\n", "unknown setting 'max_line_byte'"},
        {"max_clients = 'many'\n", "max_clients"},
        {"max_clients = 0\n", "max_clients"},
        {"socket_mode = '999'\n", "socket_mode"},
        {"log_level = 'loud'\n", "log_level"},
        {"read_mmap_bytes = -1\n", "read_mmap_bytes"},
        {"read_cache_bytes = 1024\n", "read_cache_bytes"},
        {"search_defer_nodes = -1\n", "search_defer_nodes"},
        {"heap_trim_after_ms = -5\n", "heap_trim_after_ms"},
        {"heap_trim_threshold_bytes = 4096\n", "heap_trim_threshold_bytes"},
        {"heap_trim_threshold_bytes = 4 * 1024 * 1024 * 1024\n", "heap_trim_threshold_bytes"},
        {"bulk_write_queue_bytes = -1\n", "bulk_write_queue_bytes"},
        {"bulk_write_queue_bytes = 8 * 1024 * 1024 * 1024\n", "bulk_write_queue_bytes"},
        {"write_uids = {'no-such-user-xyz'}\n", "write_uids[1]"},
        {"x = = 1\n", ":1:"},
        {"os.execute('true')\n", "execute"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dsg_config c;
        char err[600] = "";
        config_defaults(&c);
        assert_int_equal(write_conf(cases[i].text), 0);
        assert_int_equal(config_load(&c, path, err, sizeof err), -1);
        if (!strstr(err, cases[i].needle))
            fail_msg("config %s: error '%s' lacks '%s'", cases[i].text, err, cases[i].needle);
        assert_non_null(strstr(err, path));
        config_free(&c);
    }
    unlink(path);
}

static void missing_file(void **st)
{
    dsg_config c;
    char err[600];
    config_defaults(&c);
    assert_int_equal(config_load(&c, "/nonexistent/dsgraph.conf", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/dsgraph.conf"));
}

static void shipped_config_loads(void **st)
{
    dsg_config c;
    char err[600];
    config_defaults(&c);
    const char *src = getenv("DSGRAPH_SOURCE_DIR");
    char p[512];
    snprintf(p, sizeof p, "%s/etc/dsgraph.conf", src ? src : SOURCE_DIR);
    if (config_load(&c, p, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(c.max_output_bytes, 64u << 20);
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(settings_are_read),
        cmocka_unit_test(errors_name_the_problem),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(shipped_config_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
